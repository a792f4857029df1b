package dev.meshauth.agent.handshake;

import dev.meshauth.agent.events.FailureReason;
import dev.meshauth.spire.svid.SvidTrustManager;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import java.io.IOException;
import java.security.cert.X509Certificate;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/** A failed handshake is classified by the types in its cause chain, never by the words of a message. */
class FailureClassificationTest {

    /** A real refusal from the one trust manager: an empty chain is not an SVID. */
    private static Throwable trustManagerRefusal() {
        SvidTrustManager tm = new SvidTrustManager(() -> TrustDomain.parse("spiffe.cilium"), List::of,
                InstantSource.system(), SvidTrustManager.PeerRule.any(),
                SvidTrustManager.PeerRule.exactly(SpiffeId.parse("spiffe://spiffe.cilium/identity/1")), Optional.empty());
        return catchThrowable(() -> tm.checkServerTrusted(new X509Certificate[0], "EC"));
    }

    private static <T extends Throwable> T causedBy(T outer, Throwable cause) {
        outer.initCause(cause);
        return outer;
    }

    static Stream<Arguments> rows() {
        return Stream.of(
                Arguments.of("our trust manager refused the peer's certificate, wrapped as the TLS stack does",
                        causedBy(new SSLHandshakeException("General OpenSslEngine problem"), trustManagerRefusal()),
                        FailureReason.PEER_CERTIFICATE),
                Arguments.of("our refusal, deeper in the chain",
                        new IOException(causedBy(new SSLHandshakeException("x"), trustManagerRefusal())),
                        FailureReason.PEER_CERTIFICATE),
                Arguments.of("the handshake ran out of time", new SslHandshakeTimeoutException("handshake timed out"),
                        FailureReason.TIMEOUT),
                Arguments.of("an aborted handshake our side did not refuse: the peer's alert",
                        new SSLHandshakeException("Received fatal alert: unrecognized_name"), FailureReason.PEER_REFUSED),
                Arguments.of("an aborted handshake whose message says nothing of alerts",
                        new SSLHandshakeException("engine closed"), FailureReason.PEER_REFUSED),
                Arguments.of("a TLS error that is not an aborted handshake, even if its text says 'alert'",
                        new SSLException("bad record: alert handshake_failure unrecognized_name"), FailureReason.TLS),
                Arguments.of("an I/O error", new IOException("Connection reset by peer"), FailureReason.TLS));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void classifiesByType(String name, Throwable failure, FailureReason expected) {
        assertThat(MutualAuthClient.classify(failure)).isEqualTo(expected);
    }
}
