package dev.meshauth.spire.delegated;

import com.google.protobuf.ByteString;
import dev.meshauth.spire.WireIds;
import dev.meshauth.spire.devserver.CertificateMinter;
import dev.meshauth.spire.devserver.DevCa;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;
import org.junit.jupiter.api.Test;
import spire.api.agent.delegatedidentity.v1.Delegatedidentity.SubscribeToX509SVIDsResponse;
import spire.api.agent.delegatedidentity.v1.Delegatedidentity.X509SVIDWithKey;
import spire.api.types.X509Svid.X509SVID;

import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A CA revocation, in both orders the two streams can deliver it: nothing signed by the revoked CA stays
 * held, and SVIDs that arrived before the bundle naming their CA are taken once it arrives.
 */
class IdentityStateTest {
    private static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");
    private static final Instant NOW = Instant.parse("2026-11-26T12:00:00Z");
    private static final DevCa OLD = DevCa.create(TD, NOW.minusSeconds(3600));
    private static final DevCa NEW = DevCa.create(TD, NOW.minusSeconds(60));

    private static SubscribeToX509SVIDsResponse svids(DevCa ca, long identity) throws Exception {
        KeyPair kp = CertificateMinter.newKeyPair();
        SpiffeId id = SpiffeId.parse("spiffe://spiffe.cilium/identity/" + identity);
        X509Certificate cert = ca.issue(id, kp.getPublic(), NOW.minusSeconds(30), Duration.ofHours(1));
        return SubscribeToX509SVIDsResponse.newBuilder().addX509Svids(X509SVIDWithKey.newBuilder()
                .setX509Svid(X509SVID.newBuilder().addCertChain(ByteString.copyFrom(cert.getEncoded()))
                        .setId(WireIds.toProto(id)).setExpiresAt(cert.getNotAfter().toInstant().getEpochSecond()))
                .setX509SvidKey(ByteString.copyFrom(kp.getPrivate().getEncoded()))).build();
    }

    private static Map<String, byte[]> bundle(DevCa ca) throws Exception {
        return Map.of(TD.toIdString(), ca.certificate().getEncoded());
    }

    private static IdentityState heldUnderOld() throws Exception {
        IdentityState s = new IdentityState(TD);
        s.applyBundle(bundle(OLD), NOW);
        assertThat(s.applySvids(svids(OLD, 1000), NOW)).singleElement().isInstanceOf(IdentityEvent.SvidAdded.class);
        return s;
    }

    private static boolean signedBy(IdentityState s, DevCa ca) {
        try {
            s.svids().get(1000L).leaf().verify(ca.certificate().getPublicKey());
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void svidsFirstThenBundle() throws Exception {
        IdentityState s = heldUnderOld();
        List<IdentityEvent> early = s.applySvids(svids(NEW, 1000), NOW);
        assertThat(early).singleElement().isInstanceOf(IdentityEvent.SvidRejected.class);
        assertThat(signedBy(s, OLD)).as("the old one stays while the bundle still trusts it").isTrue();

        List<IdentityEvent> later = s.applyBundle(bundle(NEW), NOW);
        assertThat(later).hasAtLeastOneElementOfType(IdentityEvent.BundleChanged.class)
                .hasAtLeastOneElementOfType(IdentityEvent.SvidRotated.class);
        assertThat(signedBy(s, NEW)).as("the SVID that came early is taken now").isTrue();
    }

    @Test
    void bundleFirstThenSvids() throws Exception {
        IdentityState s = heldUnderOld();
        List<IdentityEvent> revoked = s.applyBundle(bundle(NEW), NOW);
        assertThat(revoked).hasAtLeastOneElementOfType(IdentityEvent.BundleChanged.class)
                .hasAtLeastOneElementOfType(IdentityEvent.SvidRemoved.class);
        assertThat(s.svids()).as("nothing signed by the revoked CA is served").isEmpty();

        assertThat(s.applySvids(svids(NEW, 1000), NOW)).singleElement().isInstanceOf(IdentityEvent.SvidAdded.class);
        assertThat(signedBy(s, NEW)).isTrue();
    }

    @Test
    void anSvidStillListedButExpiredIsRemovedAsStillListedAndAnAbsentOneAsGone() throws Exception {
        IdentityState s = heldUnderOld(); // 1000's SVID lives an hour from NOW - 30 s
        Instant later = NOW.plus(Duration.ofHours(2)); // the spire-agent keeps serving the same, now expired
        SubscribeToX509SVIDsResponse same = s.lastApplied();
        assertThat(s.applySvids(same, later)).filteredOn(e -> e instanceof IdentityEvent.SvidRemoved)
                .singleElement().satisfies(e -> assertThat(((IdentityEvent.SvidRemoved) e).stillListed()).isTrue());
        IdentityState t = heldUnderOld();
        assertThat(t.applySvids(SubscribeToX509SVIDsResponse.getDefaultInstance(), NOW))
                .singleElement().satisfies(e -> assertThat(((IdentityEvent.SvidRemoved) e).stillListed()).isFalse());
    }

    /** Bundle updates that are not a bundle: each is refused, and the last good bundle and SVIDs stay. */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.MethodSource("garbageBundles")
    void aGarbageBundleIsRefusedAndTheLastGoodOneKept(String name, byte[] der) throws Exception {
        IdentityState s = heldUnderOld();
        List<IdentityEvent> out = s.applyBundle(Map.of(TD.toIdString(), der), NOW);
        assertThat(out).as(name).singleElement().isInstanceOf(IdentityEvent.SvidRejected.class);
        assertThat(((IdentityEvent.SvidRejected) out.get(0)).reason()).startsWith("bundle");
        assertThat(s.roots()).containsExactly(OLD.certificate());
        assertThat(signedBy(s, OLD)).as("the SVID is still held").isTrue();
        assertThat(s.applySvids(svids(OLD, 1000), NOW)).as("and SVIDs of the kept bundle's CA are still taken")
                .noneMatch(e -> e instanceof IdentityEvent.SvidRejected);
    }

    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> garbageBundles() throws Exception {
        byte[] old = OLD.certificate().getEncoded();
        byte[] next = NEW.certificate().getEncoded();
        byte[] random = new byte[600];
        new java.util.Random(17).nextBytes(random);
        KeyPair kp = CertificateMinter.newKeyPair();
        byte[] leaf = OLD.issue(SpiffeId.parse("spiffe://spiffe.cilium/identity/1000"), kp.getPublic(), NOW.minusSeconds(30),
                Duration.ofHours(1)).getEncoded();
        return java.util.stream.Stream.of(
                org.junit.jupiter.params.provider.Arguments.of("empty", new byte[0]),
                org.junit.jupiter.params.provider.Arguments.of("random bytes", random),
                org.junit.jupiter.params.provider.Arguments.of("a truncated certificate", java.util.Arrays.copyOf(old, old.length / 2)),
                org.junit.jupiter.params.provider.Arguments.of("a good root, then a truncated one", concat(old, java.util.Arrays.copyOf(next, next.length - 7))),
                org.junit.jupiter.params.provider.Arguments.of("a good root, then garbage", concat(old, java.util.Arrays.copyOf(random, 40))),
                org.junit.jupiter.params.provider.Arguments.of("PEM text, not DER", ("-----BEGIN CERTIFICATE-----\n"
                        + java.util.Base64.getMimeEncoder().encodeToString(next) + "\n-----END CERTIFICATE-----\n").getBytes()),
                org.junit.jupiter.params.provider.Arguments.of("a leaf, not a CA", leaf));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static X509SVIDWithKey item(DevCa ca, long identity, Duration ttl) throws Exception {
        KeyPair kp = CertificateMinter.newKeyPair();
        SpiffeId id = SpiffeId.parse("spiffe://spiffe.cilium/identity/" + identity);
        X509Certificate cert = ca.issue(id, kp.getPublic(), NOW.minusSeconds(30), ttl);
        return X509SVIDWithKey.newBuilder().setX509Svid(X509SVID.newBuilder().addCertChain(ByteString.copyFrom(cert.getEncoded()))
                        .setId(WireIds.toProto(id)).setExpiresAt(cert.getNotAfter().toInstant().getEpochSecond()))
                .setX509SvidKey(ByteString.copyFrom(kp.getPrivate().getEncoded())).build();
    }

    @Test
    void twoSvidsForOneIdentityResolveToTheSameOneInEitherOrder() throws Exception {
        // Two entries reach the agent (cluster-wide and the node's, while the operator moves an identity)
        X509SVIDWithKey shorter = item(OLD, 1000, Duration.ofMinutes(30));
        X509SVIDWithKey longer = item(OLD, 1000, Duration.ofHours(1));
        IdentityState s = new IdentityState(TD);
        s.applyBundle(bundle(OLD), NOW);
        assertThat(s.applySvids(SubscribeToX509SVIDsResponse.newBuilder().addX509Svids(shorter).addX509Svids(longer).build(), NOW))
                .singleElement().isInstanceOf(IdentityEvent.SvidAdded.class);
        Instant held = s.svids().get(1000L).notAfter();
        assertThat(held).isEqualTo(NOW.minusSeconds(30).plus(Duration.ofHours(1)));
        assertThat(s.applySvids(SubscribeToX509SVIDsResponse.newBuilder().addX509Svids(longer).addX509Svids(shorter).build(), NOW))
                .as("listed the other way round: no rotation").isEmpty();
        assertThat(s.svids().get(1000L).notAfter()).isEqualTo(held);
    }
}
