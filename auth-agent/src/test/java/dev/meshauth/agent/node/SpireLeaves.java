package dev.meshauth.agent.node;

import dev.meshauth.spire.WireIds;
import dev.meshauth.spire.grpc.UnixSockets;
import dev.meshauth.spire.testing.StreamRecorder;
import io.grpc.ManagedChannel;
import spire.api.agent.delegatedidentity.v1.DelegatedIdentityGrpc;
import spire.api.agent.delegatedidentity.v1.Delegatedidentity.SubscribeToX509SVIDsRequest;
import spire.api.agent.delegatedidentity.v1.Delegatedidentity.SubscribeToX509SVIDsResponse;
import spire.api.types.SelectorOuterClass.Selector;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The workload leaves a SPIRE agent delivers, read by the test itself over the raw Delegated Identity
 * stream (not through meshauth's client), with their NotAfter as openssl reads it: the independent view
 * that auth entries are checked against.
 */
final class SpireLeaves implements AutoCloseable {
    private final ManagedChannel channel;
    private final StreamRecorder<SubscribeToX509SVIDsResponse> stream = new StreamRecorder<>();

    SpireLeaves(Path adminSocket) {
        channel = UnixSockets.channel(adminSocket, 32 << 20);
        DelegatedIdentityGrpc.newStub(channel).subscribeToX509SVIDs(SubscribeToX509SVIDsRequest.newBuilder()
                .addSelectors(Selector.newBuilder().setType("cilium").setValue("mutual-auth")).build(), stream);
    }

    /** The leaf SPIRE currently delivers for {@code identity}. */
    X509Certificate leaf(long identity) throws Exception {
        SubscribeToX509SVIDsResponse r = stream.await(m -> find(m, identity).isPresent(), Duration.ofSeconds(30),
                "holding identity " + identity);
        return find(r, identity).orElseThrow();
    }

    private static Optional<X509Certificate> find(SubscribeToX509SVIDsResponse r, long identity) {
        return r.getX509SvidsList().stream()
                .filter(s -> WireIds.fromProto(s.getX509Svid().getId()).getPath().equals("/identity/" + identity))
                .findFirst().map(s -> {
                    try {
                        return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
                                new ByteArrayInputStream(s.getX509Svid().getCertChain(0).toByteArray()));
                    } catch (java.security.cert.CertificateException e) {
                        throw new IllegalStateException(e);
                    }
                });
    }

    /** {@code openssl x509 -enddate} of {@code cert}: NotAfter as a second tool reads it. */
    static Instant opensslNotAfter(X509Certificate cert, Path dir) throws Exception {
        Path pem = Files.createTempFile(dir, "leaf", ".pem");
        Files.writeString(pem, "-----BEGIN CERTIFICATE-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(cert.getEncoded()) + "\n-----END CERTIFICATE-----\n");
        Process p = new ProcessBuilder("openssl", "x509", "-noout", "-enddate", "-in", pem.toString()).redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0 || !out.startsWith("notAfter=")) {
            throw new IllegalStateException("openssl x509 -enddate failed: " + out);
        }
        // notAfter=Dec  1 23:10:00 2026 GMT
        String date = out.substring("notAfter=".length()).replaceAll("\\s+", " ");
        return java.time.ZonedDateTime.parse(date, DateTimeFormatter.ofPattern("MMM d HH:mm:ss yyyy z", Locale.ROOT))
                .withZoneSameInstant(ZoneOffset.UTC).toInstant();
    }

    @Override
    public void close() throws InterruptedException {
        stream.close();
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    /** NotAfter of the leaves SPIRE currently delivers for {@code identities}. */
    Map<Long, Instant> notAfters(List<Long> identities) throws Exception {
        Map<Long, Instant> out = new HashMap<>();
        for (long id : identities) {
            out.put(id, leaf(id).getNotAfter().toInstant());
        }
        return out;
    }
}
