package dev.meshauth.policy.model;

import java.util.Optional;

/** {@code authentication.mode} values of a rule (Cilium's pkg/policy/api/rule.go). */
public enum AuthMode {
    DISABLED("disabled", AuthType.DISABLED), REQUIRED("required", AuthType.SPIRE),
    TEST_ALWAYS_FAIL("test-always-fail", AuthType.TEST_ALWAYS_FAIL);

    private final String yaml;
    private final AuthType type;

    AuthMode(String yaml, AuthType type) {
        this.yaml = yaml;
        this.type = type;
    }

    /** The auth type this mode maps to. */
    public AuthType type() {
        return type;
    }

    /** The YAML spelling. */
    public String yaml() {
        return yaml;
    }

    /** Parses the YAML spelling (exact, as Cilium's enum validation is). */
    public static Optional<AuthMode> parse(String s) {
        for (AuthMode m : values()) {
            if (m.yaml.equals(s)) {
                return Optional.of(m);
            }
        }
        return Optional.empty();
    }
}
