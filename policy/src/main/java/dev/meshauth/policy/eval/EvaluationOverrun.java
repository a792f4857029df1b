package dev.meshauth.policy.eval;

/** An evaluation stopped because its {@link Budget} was spent; whatever it had computed is discarded. */
public final class EvaluationOverrun extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** With what was spent and the limit, for the operator. */
    public EvaluationOverrun(String message) {
        super(message);
    }
}
