package dev.meshauth.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.meshauth.spire.SvidException;
import dev.meshauth.spire.svid.DerCodec;
import dev.meshauth.spire.svid.SvidValidator;

import java.security.cert.X509Certificate;
import java.util.List;

/**
 * DER certificate chains, as a peer presents them and SPIRE sends them, into the SVID validator against
 * a fixed root: refused with an {@link SvidException} (naming its rule) or accepted.
 */
class SvidChainFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void svidChain(byte[] input) {
        try {
            List<X509Certificate> chain = DerCodec.certificates(input);
            SvidValidator.validateChain(chain, FuzzCa.TD, List.of(FuzzCa.CA.certificate()), FuzzCa.NOW);
        } catch (SvidException expected) {
            // a typed refusal
        }
    }
}
