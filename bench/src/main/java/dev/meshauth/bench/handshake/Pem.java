package dev.meshauth.bench.handshake;

import dev.meshauth.spire.svid.WorkloadSvid;
import io.spiffe.spiffeid.SpiffeId;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.OptionalLong;

/** PEM files the benchmark's peers share: every stack reads the same certificates and keys. */
final class Pem {
    private Pem() {
    }

    static String encode(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der) + "\n-----END " + type + "-----\n";
    }

    static List<X509Certificate> certificates(Path file) throws Exception {
        try (var in = new ByteArrayInputStream(Files.readAllBytes(file))) {
            return CertificateFactory.getInstance("X.509").generateCertificates(in).stream()
                    .map(X509Certificate.class::cast).toList();
        }
    }

    /** {@code ID=CERT.pem,KEY.pem}, the Go peer's {@code -svid} flag, as an SVID. */
    static WorkloadSvid svid(String flag) throws Exception {
        String[] idFiles = flag.split("=", 2);
        String[] files = idFiles[1].split(",", 2);
        List<X509Certificate> chain = certificates(Path.of(files[0]));
        String b64 = Files.readString(Path.of(files[1])).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        var key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(b64)));
        String uri = chain.getFirst().getSubjectAlternativeNames().stream().filter(n -> (Integer) n.get(0) == 6)
                .map(n -> (String) n.get(1)).findFirst().orElseThrow();
        return new WorkloadSvid(SpiffeId.parse(uri), OptionalLong.of(Long.parseLong(idFiles[0])), chain, key, "");
    }
}
