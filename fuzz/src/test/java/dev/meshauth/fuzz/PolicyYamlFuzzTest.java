package dev.meshauth.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.meshauth.policy.PolicyException;
import dev.meshauth.policy.yaml.PolicyParser;

import java.nio.charset.StandardCharsets;

/** CiliumNetworkPolicy YAML (the {@code --policies} files and the policy watch): refused with a {@link PolicyException} or parsed. */
class PolicyYamlFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void policyYaml(byte[] input) {
        try {
            PolicyParser.parse("fuzz.yaml", new String(input, StandardCharsets.UTF_8));
        } catch (PolicyException expected) {
            // a typed refusal, with its location
        }
    }
}
