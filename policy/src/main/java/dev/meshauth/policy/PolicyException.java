package dev.meshauth.policy;

import java.util.List;
import java.util.stream.Collectors;

/**
 * Policies or endpoints that cannot be accepted, with every problem found: file, line, column, the path
 * of the field, and what is wrong (with a "did you mean" where a key is misspelled). Nothing from an
 * input with problems is used: the last good set stays in force.
 */
public class PolicyException extends Exception {
    private static final long serialVersionUID = 1L;

    private final transient List<Problem> problems;

    /** One problem at one place. */
    public record Problem(String file, int line, int column, String path, String message) {
        @Override
        public String toString() {
            return file + ":" + line + ":" + column + ": " + (path.isEmpty() ? "" : path + ": ") + message;
        }
    }

    /** All problems of one input (at least one). */
    public PolicyException(List<Problem> problems) {
        super(problems.stream().map(Problem::toString).collect(Collectors.joining("\n")));
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("a PolicyException needs a problem");
        }
        this.problems = List.copyOf(problems);
    }

    /** The problems, in the order found. */
    public List<Problem> problems() {
        return problems;
    }
}
