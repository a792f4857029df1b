package dev.meshauth.spire.entry;

import java.util.List;

/**
 * What one reconcile pass did.
 *
 * @param created   entries created
 * @param updated   entries updated (by their real id)
 * @param deleted   entries deleted
 * @param unchanged entries already as desired
 * @param failures  per-item failures with SPIRE's code and message
 * @param calls     RPCs that change state (0 on an idempotent pass)
 */
public record ReconcileResult(int created, int updated, int deleted, int unchanged, List<String> failures, int calls) {
    /** Copies the failures. */
    public ReconcileResult {
        failures = List.copyOf(failures);
    }
}
