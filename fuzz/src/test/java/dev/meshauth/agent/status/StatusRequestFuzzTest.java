package dev.meshauth.agent.status;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.nio.charset.StandardCharsets;

/** The status API's request head, as read from its socket: refused with an {@link IllegalArgumentException} (a 400) or parsed. */
class StatusRequestFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void requestHead(byte[] input) {
        try {
            StatusServer.Request r = StatusServer.parse(new String(input, StandardCharsets.ISO_8859_1));
            if (!r.path().startsWith("/")) {
                throw new AssertionError("a path that does not start with /: " + r.path());
            }
        } catch (IllegalArgumentException expected) {
            // answered 400
        }
    }
}
