package dev.meshauth.spire.devserver;

import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;

/**
 * The dev server's certificate authority: one self-signed ECDSA P-256 root for the trust domain, which
 * signs X509-SVIDs directly. Persisted in the data directory (key mode 0600), so a restart keeps the trust
 * domain's root and SVIDs issued before the restart stay valid.
 */
public final class DevCa {
    private static final Duration CA_TTL = Duration.ofDays(365);

    private final TrustDomain trustDomain;
    private final X509Certificate certificate;
    private final PrivateKey key;

    private DevCa(TrustDomain trustDomain, X509Certificate certificate, PrivateKey key) {
        this.trustDomain = trustDomain;
        this.certificate = certificate;
        this.key = key;
    }

    /** A new in-memory CA. */
    public static DevCa create(TrustDomain td, Instant now) {
        KeyPair kp = CertificateMinter.newKeyPair();
        X509Certificate cert = CertificateMinter.selfSignedCa(td.toIdString(), "CN=meshauth dev CA,O=meshauth,C=US",
                now.minusSeconds(60), now.plus(CA_TTL), kp);
        return new DevCa(td, cert, kp.getPrivate());
    }

    /**
     * Loads the CA from {@code dir} (ca.crt, ca.key, DER), or creates and stores one.
     *
     * @throws IOException if the files cannot be read or written, or belong to another trust domain
     */
    public static DevCa loadOrCreate(Path dir, TrustDomain td, Instant now) throws IOException {
        Path crt = dir.resolve("ca.crt");
        Path keyFile = dir.resolve("ca.key");
        if (Files.exists(crt) && Files.exists(keyFile)) {
            try {
                X509Certificate cert = dev.meshauth.spire.svid.DerCodec.certificates(Files.readAllBytes(crt)).getFirst();
                PrivateKey key = dev.meshauth.spire.svid.DerCodec.privateKey(Files.readAllBytes(keyFile));
                String expected = td.toIdString();
                if (cert.getSubjectAlternativeNames() == null || cert.getSubjectAlternativeNames().stream()
                        .noneMatch(san -> expected.equals(san.get(1)))) {
                    throw new IOException("the CA in " + dir + " is not for trust domain " + td.getName()
                            + "; use another --data-dir or remove it");
                }
                return new DevCa(td, cert, key);
            } catch (dev.meshauth.spire.SvidException | java.security.cert.CertificateParsingException e) {
                throw new IOException("cannot read the CA in " + dir + ": " + e.getMessage(), e);
            }
        }
        DevCa ca = create(td, now);
        Files.createDirectories(dir);
        try {
            writeAtomically(crt, ca.certificate.getEncoded());
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IOException(e);
        }
        writeAtomically(keyFile, ca.key.getEncoded());
        Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-------"));
        return ca;
    }

    static void writeAtomically(Path target, byte[] bytes) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.write(tmp, bytes);
        try {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Signs an X509-SVID for {@code id} valid from {@code now} for {@code ttl}. */
    public X509Certificate issue(SpiffeId id, PublicKey key, Instant now, Duration ttl) {
        Instant notAfter = now.plus(ttl);
        if (notAfter.isAfter(certificate.getNotAfter().toInstant())) {
            notAfter = certificate.getNotAfter().toInstant();
        }
        return CertificateMinter.svid(id.toString(), now.minusSeconds(10), notAfter, key, certificate, this.key);
    }

    /** The root certificate, the trust bundle's only member. */
    public X509Certificate certificate() {
        return certificate;
    }

    /** The CA key (for signing JWT-SVIDs too). */
    PrivateKey key() {
        return key;
    }

    /** The trust domain. */
    public TrustDomain trustDomain() {
        return trustDomain;
    }
}
