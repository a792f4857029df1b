package dev.meshauth.spire;

/**
 * Identity material that breaks a rule of the X509-SVID or SPIFFE ID specification, or cannot be
 * parsed. The message names the rule, so an operator can tell a misconfigured SPIRE from a bug.
 */
public class SvidException extends Exception {
    private static final long serialVersionUID = 1L;

    private final SvidRule rule;

    /** A violation of {@code rule}, with what was found. */
    public SvidException(SvidRule rule, String detail) {
        super(rule.description() + ": " + detail);
        this.rule = rule;
    }

    /** A violation with an underlying cause (a parse or path-validation failure). */
    public SvidException(SvidRule rule, String detail, Throwable cause) {
        super(rule.description() + ": " + detail, cause);
        this.rule = rule;
    }

    /** The rule that was broken. */
    public SvidRule rule() {
        return rule;
    }
}
