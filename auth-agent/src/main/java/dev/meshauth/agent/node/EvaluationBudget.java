package dev.meshauth.agent.node;

import dev.meshauth.policy.eval.Budget;
import dev.meshauth.policy.eval.EvaluationOverrun;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * How long one policy evaluation may take ({@code --policy-evaluation-budget}). Each evaluation gets a
 * fresh {@link Budget} that reads the ticker every few thousand entries and stops the evaluation past
 * the limit, so a policy set that would take minutes is refused (a status problem, the last good state
 * kept) instead of stalling the agent's loop; and past {@link #MAX_ENTRIES} entries, so one that would need
 * gigabytes is refused before it takes them.
 *
 * @param limit  the time one evaluation may take
 * @param ticker monotonic nanoseconds
 */
record EvaluationBudget(Duration limit, LongSupplier ticker) {
    /** The default limit: ten times what the largest benchmarked policy set takes (docs/benchmarks.md). */
    static final Duration DEFAULT_LIMIT = Duration.ofSeconds(10);
    private static final int CHECK_EVERY = 4096;
    /** Entries one evaluation may produce (about 150 bytes each); a node's datapath holds far fewer. */
    static final long MAX_ENTRIES = 4_000_000;

    /** The default limit on {@code ticker}. */
    static EvaluationBudget defaults(LongSupplier ticker) {
        return new EvaluationBudget(DEFAULT_LIMIT, ticker);
    }

    /** A budget for one evaluation, starting now. */
    Budget start() {
        long begin = ticker.getAsLong();
        long max = limit.toNanos();
        return new Budget() {
            private long units;
            private long nextCheck = CHECK_EVERY;

            @Override
            public void charge(int n) {
                units += n;
                if (units >= nextCheck) {
                    nextCheck = units + CHECK_EVERY;
                    if (units > MAX_ENTRIES) {
                        throw new EvaluationOverrun("policy evaluation stopped at " + units + " entries, over its budget of "
                                + MAX_ENTRIES + " for this node: the last good policy stays in force; narrow the policies"
                                + " (fewer peers per rule, e.g. not fromEndpoints [{}] with ports)");
                    }
                    long spent = ticker.getAsLong() - begin;
                    if (spent > max) {
                        throw new EvaluationOverrun("policy evaluation stopped after " + Duration.ofNanos(spent).toMillis()
                                + " ms and " + units + " entries, over its budget of " + limit.toMillis() + " ms: the last"
                                + " good policy stays in force; narrow the policies (port ranges, fewer peers per rule) or"
                                + " raise --policy-evaluation-budget");
                    }
                }
            }
        };
    }
}
