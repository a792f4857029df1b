package dev.meshauth.fuzz;

import com.google.protobuf.ByteString;
import dev.meshauth.spire.WireIds;
import dev.meshauth.spire.devserver.CertificateMinter;
import dev.meshauth.spire.devserver.DevCa;
import io.spiffe.spiffeid.SpiffeId;
import spire.api.agent.delegatedidentity.v1.Delegatedidentity.SubscribeToX509BundlesResponse;
import spire.api.agent.delegatedidentity.v1.Delegatedidentity.SubscribeToX509SVIDsResponse;
import spire.api.agent.delegatedidentity.v1.Delegatedidentity.X509SVIDWithKey;
import spire.api.types.X509Svid.X509SVID;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;

/**
 * Writes the fixed fuzz CA and the certificate and SPIRE seeds (run once; its output is committed):
 * {@code java -cp ... dev.meshauth.fuzz.SeedWriter fuzz/src/test/resources}.
 */
public final class SeedWriter {
    private static final io.spiffe.spiffeid.TrustDomain TD = io.spiffe.spiffeid.TrustDomain.parse("spiffe.cilium");

    private SeedWriter() {
    }

    public static void main(String[] args) throws Exception {
        Path res = Path.of(args[0]);
        DevCa ca = DevCa.loadOrCreate(res.resolve("fuzz-ca"), TD, Instant.now());
        Instant now = ca.certificate().getNotBefore().toInstant().plusSeconds(3600);
        KeyPair kp = CertificateMinter.newKeyPair();
        SpiffeId id = SpiffeId.parse("spiffe://spiffe.cilium/identity/1001");
        X509Certificate svid = ca.issue(id, kp.getPublic(), now.minusSeconds(60), Duration.ofDays(30));
        write(res, "SvidChainFuzzTestInputs/svidChain/svid-1001", svid.getEncoded());
        byte[] chain = concat(svid.getEncoded(), ca.certificate().getEncoded());
        write(res, "SvidChainFuzzTestInputs/svidChain/svid-and-ca", chain);

        SubscribeToX509SVIDsResponse svids = SubscribeToX509SVIDsResponse.newBuilder().addX509Svids(X509SVIDWithKey.newBuilder()
                .setX509Svid(X509SVID.newBuilder().addCertChain(ByteString.copyFrom(svid.getEncoded()))
                        .setId(WireIds.toProto(id)).setExpiresAt(svid.getNotAfter().toInstant().getEpochSecond()))
                .setX509SvidKey(ByteString.copyFrom(kp.getPrivate().getEncoded()))).build();
        write(res, "DelegatedIdentityFuzzTestInputs/identityUpdates/svids", concat(new byte[] {0}, svids.toByteArray()));
        // Regression (found by fuzz/run in CI): a PKCS#8 key whose scalar has more bits than the curve order
        // (here 2^256 + d, a 33-byte octet string the JDK parses as is) once reached BouncyCastle's fixed-point
        // multiplier, which threw instead of the key being refused.
        var ec = (java.security.interfaces.ECPrivateKey) kp.getPrivate();
        var pkcs8 = org.bouncycastle.asn1.pkcs.PrivateKeyInfo.getInstance(ec.getEncoded());
        @SuppressWarnings("deprecation")
        var wide = new org.bouncycastle.asn1.sec.ECPrivateKey(java.math.BigInteger.ONE.shiftLeft(256).add(ec.getS()));
        byte[] aboveOrder = new org.bouncycastle.asn1.pkcs.PrivateKeyInfo(pkcs8.getPrivateKeyAlgorithm(), wide).getEncoded();
        write(res, "DelegatedIdentityFuzzTestInputs/identityUpdates/crash-key-scalar-above-order",
                concat(new byte[] {0}, svids.toBuilder().setX509Svids(0, svids.getX509Svids(0).toBuilder()
                        .setX509SvidKey(ByteString.copyFrom(aboveOrder))).build().toByteArray()));
        SubscribeToX509BundlesResponse bundles = SubscribeToX509BundlesResponse.newBuilder()
                .putCaCertificates(TD.toIdString(), ByteString.copyFrom(ca.certificate().getEncoded())).build();
        write(res, "DelegatedIdentityFuzzTestInputs/identityUpdates/bundle", concat(new byte[] {1}, bundles.toByteArray()));
    }

    private static void write(Path res, String name, byte[] bytes) throws Exception {
        Path f = res.resolve("dev/meshauth/fuzz").resolve(name);
        if (name.startsWith("DelegatedIdentity")) {
            f = res.resolve("dev/meshauth/spire/delegated").resolve(name);
        }
        Files.createDirectories(f.getParent());
        Files.write(f, bytes);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
