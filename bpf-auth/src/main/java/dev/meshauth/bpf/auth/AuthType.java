package dev.meshauth.bpf.auth;

import java.util.Locale;

/**
 * The {@code auth_type} byte of Cilium's auth key (pkg/policy/l4.go {@code AuthType}).
 *
 * <p>A value, not an enum: a map written by another program may hold a type this version does not know,
 * and listing it must still work ("Unknown-auth-type-N", as Cilium prints it).
 *
 * @param code the byte stored in the map, 0..255
 */
public record AuthType(int code) {
    /** No authentication. */
    public static final AuthType DISABLED = new AuthType(0);
    /** Mutual TLS with SPIFFE identities from SPIRE ({@code authentication.mode: required}). */
    public static final AuthType SPIRE = new AuthType(1);
    /** Always fails; for testing the drop path ({@code authentication.mode: test-always-fail}). */
    public static final AuthType TEST_ALWAYS_FAIL = new AuthType(2);

    /** Checks the code fits the key's u8 field. */
    public AuthType {
        if (code < 0 || code > 255) {
            throw new IllegalArgumentException("auth type must be 0..255, got " + code);
        }
    }

    /** True for the types this version knows. */
    public boolean known() {
        return code <= 2;
    }

    /** Cilium's string form: "disabled", "spire", "test-always-fail", or "Unknown-auth-type-N". */
    @Override
    public String toString() {
        return switch (code) {
            case 0 -> "disabled";
            case 1 -> "spire";
            case 2 -> "test-always-fail";
            default -> "Unknown-auth-type-" + code;
        };
    }

    /**
     * Parses the string form (case-insensitive) or a number.
     *
     * @throws IllegalArgumentException naming the accepted values
     */
    public static AuthType parse(String s) {
        String v = s.strip().toLowerCase(Locale.ROOT);
        return switch (v) {
            case "disabled" -> DISABLED;
            case "spire" -> SPIRE;
            case "test-always-fail" -> TEST_ALWAYS_FAIL;
            default -> {
                try {
                    yield new AuthType(Integer.parseInt(v));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("unknown auth type '" + s
                            + "': expected disabled, spire, test-always-fail or a number 0..255", e);
                }
            }
        };
    }
}
