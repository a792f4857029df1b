package dev.meshauth.spire.entry;

import dev.meshauth.spire.WireIds;
import io.grpc.StatusRuntimeException;
import io.spiffe.spiffeid.SpiffeId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import spire.api.server.entry.v1.EntryGrpc;
import spire.api.server.entry.v1.EntryOuterClass.BatchCreateEntryRequest;
import spire.api.server.entry.v1.EntryOuterClass.BatchCreateEntryResponse;
import spire.api.server.entry.v1.EntryOuterClass.BatchDeleteEntryRequest;
import spire.api.server.entry.v1.EntryOuterClass.BatchDeleteEntryResponse;
import spire.api.server.entry.v1.EntryOuterClass.BatchUpdateEntryRequest;
import spire.api.server.entry.v1.EntryOuterClass.BatchUpdateEntryResponse;
import spire.api.server.entry.v1.EntryOuterClass.ListEntriesRequest;
import spire.api.server.entry.v1.EntryOuterClass.ListEntriesResponse;
import spire.api.types.EntryOuterClass.Entry;
import spire.api.types.SelectorOuterClass.SelectorMatch;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The operator's job: make SPIRE's identity entries equal a desired set of {@link Registration}s (identity
 * and parent), through the server Entry API. Lists (paginated) only entries it owns (exactly its selector,
 * an identity path, a parent its {@link EntryLayout} owns), creates and deletes in chunks of 200, updates
 * drifted entries by their real id, and
 * treats a per-item ALREADY_EXISTS as "someone created it": the returned entry is adopted (Cilium sends
 * BatchUpdateEntry with an empty id here, and SPIRE logs an error for every one). A pass over an
 * already-reconciled server makes no call that changes anything.
 */
public final class EntryRegistrar {
    private static final Logger LOG = LoggerFactory.getLogger(EntryRegistrar.class);
    static final int CHUNK = 200;
    private static final int PAGE_SIZE = 500;
    private static final int OK = 0;
    private static final int NOT_FOUND = 5;
    private static final int ALREADY_EXISTS = 6;

    private final EntryGrpc.EntryBlockingStub stub;
    private final RegistrationSpec spec;
    private final EntryLayout layout;

    /** Talks to the Entry API through {@code stub}, entries shaped by {@code spec} and laid out by {@code layout}. */
    public EntryRegistrar(EntryGrpc.EntryBlockingStub stub, RegistrationSpec spec, EntryLayout layout) {
        this.stub = stub;
        this.spec = spec;
        this.layout = layout;
    }

    /** The layout. */
    public EntryLayout layout() {
        return layout;
    }

    /** The entries we own, by registration. */
    public Map<Registration, Entry> owned() {
        return list();
    }

    private Map<Registration, Entry> list() {
        Map<Registration, Entry> out = new HashMap<>();
        ListEntriesRequest.Filter filter = ListEntriesRequest.Filter.newBuilder()
                .setBySelectors(SelectorMatch.newBuilder().addSelectors(spec.selector())
                        .setMatch(SelectorMatch.MatchBehavior.MATCH_EXACT))
                .build();
        String token = "";
        do {
            ListEntriesResponse page = stub.listEntries(ListEntriesRequest.newBuilder().setFilter(filter)
                    .setPageSize(PAGE_SIZE).setPageToken(token).build());
            for (Entry e : page.getEntriesList()) {
                OptionalLong id = spec.identityOf(e);
                if (id.isEmpty()) {
                    continue;
                }
                SpiffeId parent;
                try {
                    parent = SpiffeId.parse(WireIds.toString(e.getParentId()));
                } catch (io.spiffe.exception.InvalidSpiffeIdException | IllegalArgumentException notASpiffeId) {
                    continue;
                }
                if (layout.owns(parent)) {
                    out.put(new Registration(id.getAsLong(), parent), e); // SPIRE keeps one entry per ID, parent and selectors
                }
            }
            token = page.getNextPageToken();
        } while (!token.isEmpty());
        return out;
    }

    /**
     * Reconciles to {@code desired} identities.
     *
     * @throws StatusRuntimeException if an RPC as a whole fails (server unreachable, not authorized);
     *                                per-item failures are in the result, not thrown
     */
    public ReconcileResult reconcile(Set<Registration> desired) {
        return reconcile(desired, list());
    }

    /**
     * Reconciles to {@code desired}, from {@code existing} as {@link #owned()} listed it moments ago (a caller
     * that needs the listing itself lists once).
     *
     * @throws StatusRuntimeException if an RPC as a whole fails
     */
    public ReconcileResult reconcile(Set<Registration> desired, Map<Registration, Entry> existing) {
        List<Entry> toCreate = new ArrayList<>();
        List<Entry> toUpdate = new ArrayList<>();
        int unchanged = 0;
        for (Registration r : desired) {
            Entry have = existing.get(r);
            if (have == null) {
                toCreate.add(spec.desired(r));
            } else if (spec.drifted(have)) {
                toUpdate.add(spec.desired(r).toBuilder().setId(have.getId()).build());
            } else {
                unchanged++;
            }
        }
        List<String> toDelete = existing.entrySet().stream().filter(e -> !desired.contains(e.getKey()))
                .map(e -> e.getValue().getId()).toList();
        List<String> failures = new ArrayList<>();
        int calls = 0;
        int created = 0;
        for (List<Entry> chunk : chunks(toCreate)) {
            calls++;
            BatchCreateEntryResponse r = stub.batchCreateEntry(BatchCreateEntryRequest.newBuilder().addAllEntries(chunk).build());
            for (BatchCreateEntryResponse.Result res : r.getResultsList()) {
                int code = res.getStatus().getCode();
                if (code == OK) {
                    created++;
                } else if (code == ALREADY_EXISTS && res.hasEntry()) {
                    // Created meanwhile by someone else: adopt it, and fix it with its real id if it drifted.
                    if (spec.drifted(res.getEntry())) {
                        toUpdate.add(res.getEntry().toBuilder().setX509SvidTtl(spec.svidTtlSeconds()).build());
                    } else {
                        unchanged++;
                    }
                } else {
                    failures.add("create " + res.getEntry().getSpiffeId().getPath() + ": code " + code + " "
                            + res.getStatus().getMessage());
                }
            }
        }
        int updated = 0;
        for (List<Entry> chunk : chunks(toUpdate)) {
            calls++;
            BatchUpdateEntryResponse r = stub.batchUpdateEntry(BatchUpdateEntryRequest.newBuilder().addAllEntries(chunk).build());
            for (BatchUpdateEntryResponse.Result res : r.getResultsList()) {
                if (res.getStatus().getCode() == OK) {
                    updated++;
                } else {
                    failures.add("update: code " + res.getStatus().getCode() + " " + res.getStatus().getMessage());
                }
            }
        }
        int deleted = 0;
        for (List<String> chunk : chunks(toDelete)) {
            calls++;
            BatchDeleteEntryResponse r = stub.batchDeleteEntry(BatchDeleteEntryRequest.newBuilder().addAllIds(chunk).build());
            for (BatchDeleteEntryResponse.Result res : r.getResultsList()) {
                int code = res.getStatus().getCode();
                if (code == OK) {
                    deleted++;
                } else if (code != NOT_FOUND) { // already gone is what we wanted
                    failures.add("delete " + res.getId() + ": code " + code + " " + res.getStatus().getMessage());
                }
            }
        }
        ReconcileResult result = new ReconcileResult(created, updated, deleted, unchanged, failures, calls);
        if (calls > 0 || !failures.isEmpty()) {
            LOG.atInfo().setMessage("SPIRE entries reconciled")
                    .addKeyValue("created", created)
                    .addKeyValue("updated", updated)
                    .addKeyValue("deleted", deleted)
                    .addKeyValue("unchanged", unchanged)
                    .addKeyValue("failures", failures)
                    .log();
        }
        return result;
    }

    /**
     * Reconciles to {@code identities} in the cluster-wide layout, where placement does not matter.
     *
     * @throws IllegalStateException with a node-scoped layout, which needs each identity's nodes
     */
    public ReconcileResult reconcileIdentities(Set<Long> identities) {
        if (!(layout instanceof EntryLayout.ClusterWide)) {
            throw new IllegalStateException("a node-scoped layout needs the nodes hosting each identity");
        }
        Map<Long, Set<NodeRef>> everywhere = new HashMap<>();
        identities.forEach(id -> everywhere.put(id, Set.of()));
        return reconcile(layout.registrations(everywhere));
    }

    private static <T> List<List<T>> chunks(List<T> items) {
        List<List<T>> out = new ArrayList<>();
        for (int i = 0; i < items.size(); i += CHUNK) {
            out.add(items.subList(i, Math.min(items.size(), i + CHUNK)));
        }
        return out;
    }
}
