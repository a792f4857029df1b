package dev.meshauth.policy.yaml;

import dev.meshauth.policy.model.Protocol;
import org.yaml.snakeyaml.nodes.Node;

import java.util.Map;
import java.util.Optional;

/** ICMP and ICMPv6 types by number (0..255) or by the names Cilium's {@code icmps} accepts. */
final class IcmpTypes {
    /** A type of one family. */
    record Type(Protocol family, int type) {
    }

    private static final Map<String, Integer> V4 = Map.ofEntries(Map.entry("EchoReply", 0),
            Map.entry("DestinationUnreachable", 3), Map.entry("Redirect", 5), Map.entry("Echo", 8),
            Map.entry("EchoRequest", 8), Map.entry("RouterAdvertisement", 9), Map.entry("RouterSelection", 10),
            Map.entry("TimeExceeded", 11), Map.entry("ParameterProblem", 12), Map.entry("Timestamp", 13),
            Map.entry("TimestampReply", 14), Map.entry("Photuris", 40), Map.entry("ExtendedEchoRequest", 42),
            Map.entry("ExtendedEchoReply", 43));
    private static final Map<String, Integer> V6 = Map.ofEntries(Map.entry("DestinationUnreachable", 1),
            Map.entry("PacketTooBig", 2), Map.entry("TimeExceeded", 3), Map.entry("ParameterProblem", 4),
            Map.entry("EchoRequest", 128), Map.entry("EchoReply", 129), Map.entry("MulticastListenerQuery", 130),
            Map.entry("MulticastListenerReport", 131), Map.entry("MulticastListenerDone", 132),
            Map.entry("RouterSolicitation", 133), Map.entry("RouterAdvertisement", 134),
            Map.entry("NeighborSolicitation", 135), Map.entry("NeighborAdvertisement", 136),
            Map.entry("RedirectMessage", 137), Map.entry("RouterRenumbering", 138),
            Map.entry("ICMPNodeInformationQuery", 139), Map.entry("ICMPNodeInformationResponse", 140),
            Map.entry("InverseNeighborDiscoverySolicitation", 141), Map.entry("InverseNeighborDiscoveryAdvertisement", 142),
            Map.entry("HomeAgentAddressDiscoveryRequest", 144), Map.entry("HomeAgentAddressDiscoveryReply", 145),
            Map.entry("MobilePrefixSolicitation", 146), Map.entry("MobilePrefixAdvertisement", 147),
            Map.entry("DuplicateAddressRequestCodeSuffix", 157), Map.entry("DuplicateAddressConfirmationCodeSuffix", 158),
            Map.entry("ExtendedEchoRequest", 160), Map.entry("ExtendedEchoReply", 161));

    private IcmpTypes() {
    }

    /** The type at {@code node}, or empty after reporting the problem. */
    static Optional<Type> parse(YamlReader r, Node node, String path, Protocol family) {
        Optional<String> s = r.scalar(node, path);
        if (s.isEmpty()) {
            return Optional.empty();
        }
        if (s.get().matches("[0-9]+")) {
            return r.integer(node, path, 0, 255).map(v -> new Type(family, v.intValue()));
        }
        Map<String, Integer> names = family == Protocol.ICMPV6 ? V6 : V4;
        Integer t = names.get(s.get());
        if (t == null) {
            String hint = Suggest.closest(s.get(), names.keySet()).map(x -> " (did you mean '" + x + "'?)").orElse("");
            r.problem(node, path, "unknown " + (family == Protocol.ICMPV6 ? "ICMPv6" : "ICMP") + " type '" + s.get()
                    + "': a number 0..255 or a type name" + hint);
            return Optional.empty();
        }
        return Optional.of(new Type(family, t));
    }
}
