package dev.meshauth.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.meshauth.policy.PolicyException;
import dev.meshauth.policy.endpoint.EndpointsFile;
import dev.meshauth.policy.endpoint.IdentityAllocator;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/** The standalone endpoints file ({@code --endpoints}): refused with a {@link PolicyException} or parsed. */
class EndpointsFileFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void endpointsFile(byte[] input) throws java.io.IOException { // the allocator's IOException is for its file: none here
        try {
            EndpointsFile.parse("fuzz.yaml", new String(input, StandardCharsets.UTF_8), new IdentityAllocator(Optional.empty()));
        } catch (PolicyException expected) {
            // a typed refusal, with its location
        }
    }
}
