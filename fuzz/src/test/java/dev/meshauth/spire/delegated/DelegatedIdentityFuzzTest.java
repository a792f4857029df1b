package dev.meshauth.spire.delegated;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.meshauth.fuzz.FuzzCa;
import spire.api.agent.delegatedidentity.v1.Delegatedidentity.SubscribeToX509BundlesResponse;
import spire.api.agent.delegatedidentity.v1.Delegatedidentity.SubscribeToX509SVIDsResponse;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * SPIRE Delegated Identity responses, as the agent's streams receive them, into the client's identity
 * state: the first byte picks the stream (even: X.509-SVIDs, odd: bundles), the rest is the protobuf
 * message. A message protobuf cannot decode is gRPC's to refuse; whatever decodes must be taken or
 * refused as events (rejections), never as an exception, and a held SVID must always chain to the bundle.
 */
class DelegatedIdentityFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void identityUpdates(byte[] input) throws java.security.cert.CertificateEncodingException {
        if (input.length == 0) {
            return;
        }
        IdentityState state = new IdentityState(FuzzCa.TD);
        state.applyBundle(Map.of(FuzzCa.TD.toIdString(), FuzzCa.CA.certificate().getEncoded()), FuzzCa.NOW);
        byte[] message = Arrays.copyOfRange(input, 1, input.length);
        try {
            if ((input[0] & 1) == 0) {
                state.applySvids(SubscribeToX509SVIDsResponse.parseFrom(message), FuzzCa.NOW);
            } else {
                Map<String, byte[]> bundles = new HashMap<>();
                SubscribeToX509BundlesResponse.parseFrom(message).getCaCertificatesMap()
                        .forEach((k, v) -> bundles.put(k, v.toByteArray()));
                state.applyBundle(bundles, FuzzCa.NOW);
            }
        } catch (InvalidProtocolBufferException notAMessage) {
            return;
        }
        if (state.roots().isEmpty()) {
            throw new AssertionError("the bundle was lost");
        }
    }
}
