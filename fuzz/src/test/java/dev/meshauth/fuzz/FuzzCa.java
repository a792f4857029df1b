package dev.meshauth.fuzz;

import dev.meshauth.spire.devserver.DevCa;
import io.spiffe.spiffeid.TrustDomain;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Instant;

/**
 * A fixed CA for the certificate fuzz targets (committed under {@code fuzz-ca/}), so that the committed
 * seeds, SVIDs it signed, verify on every run and the fuzzer starts from the accepting path. {@link #NOW}
 * is inside its validity and the seeds'.
 */
public final class FuzzCa {
    public static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");
    public static final DevCa CA;
    public static final Instant NOW;

    static {
        try {
            Path dir = Path.of(FuzzCa.class.getResource("/fuzz-ca/ca.crt").toURI()).getParent();
            CA = DevCa.loadOrCreate(dir, TD, Instant.EPOCH);
            NOW = CA.certificate().getNotBefore().toInstant().plusSeconds(3600);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private FuzzCa() {
    }
}
