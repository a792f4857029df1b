package dev.meshauth.policy.model;

/**
 * Authentication a rule demands, ordered as Cilium orders them: where rules overlap, the numerically
 * higher type wins (pkg/policy/l4.go). Codes match the auth map's {@code auth_type} byte.
 */
public enum AuthType {
    DISABLED(0, "disabled"), SPIRE(1, "spire"), TEST_ALWAYS_FAIL(2, "test-always-fail");

    private final int code;
    private final String text;

    AuthType(int code, String text) {
        this.code = code;
        this.text = text;
    }

    /** The auth map byte. */
    public int code() {
        return code;
    }

    @Override
    public String toString() {
        return text;
    }

    /** The higher of two. */
    public static AuthType max(AuthType a, AuthType b) {
        return a.code >= b.code ? a : b;
    }
}
