package dev.meshauth.policy.eval;

/**
 * The work one evaluation may do, charged as it produces entries. The policy module has no clock: the
 * caller's budget decides (the agent's throws {@link EvaluationOverrun} past a deadline), so a policy set
 * that would take minutes is refused within the budget instead of stalling its caller.
 */
@FunctionalInterface
public interface Budget {
    /** No limit (the CLI and tests). */
    Budget UNLIMITED = units -> { };

    /**
     * Charges {@code units} of work (about one policy entry each).
     *
     * @throws EvaluationOverrun if the budget is spent
     */
    void charge(int units);
}
