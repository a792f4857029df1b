package dev.meshauth.fuzz;

import io.spiffe.spiffeid.TrustDomain;

import java.security.cert.CertificateEncodingException;
import java.time.Instant;

/** {@link FuzzCa} for fuzz targets in other packages. */
public final class FuzzCaAccess {
    private FuzzCaAccess() {
    }

    public static TrustDomain td() {
        return FuzzCa.TD;
    }

    public static Instant now() {
        return FuzzCa.NOW;
    }

    public static byte[] caDer() {
        try {
            return FuzzCa.CA.certificate().getEncoded();
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }
}
