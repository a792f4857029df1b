package dev.meshauth.spire.devserver;

import com.google.protobuf.InvalidProtocolBufferException;
import io.spiffe.spiffeid.TrustDomain;
import spire.api.server.entry.v1.EntryOuterClass.ListEntriesResponse;
import spire.api.types.EntryOuterClass.Entry;
import spire.api.types.SelectorOuterClass.Selector;
import spire.api.types.Spiffeid.SPIFFEID;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The dev server's registration entries: validated as SPIRE's server validates them, persisted to the
 * data directory after every change, and observable (streams re-send their full state on a change).
 */
public final class EntryStore {
    private final TrustDomain trustDomain;
    private final Optional<Path> file;
    private final InstantSource clock;
    private final TreeMap<String, Entry> entries = new TreeMap<>(); // @GuardedBy("this")
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    private final java.util.Map<SimilarKey, String> bySimilarity = new java.util.HashMap<>(); // @GuardedBy("this")
    private long revision; // @GuardedBy("this")

    /** SPIRE's "similar entry": same SPIFFE ID, parent and selector set. */
    private record SimilarKey(SPIFFEID spiffeId, SPIFFEID parentId, Set<Selector> selectors) {
        static SimilarKey of(Entry e) {
            return new SimilarKey(e.getSpiffeId(), e.getParentId(), Set.copyOf(e.getSelectorsList()));
        }
    }

    /** A store, loaded from {@code file} if it exists. */
    public EntryStore(TrustDomain trustDomain, Optional<Path> file, InstantSource clock) throws IOException {
        this.trustDomain = trustDomain;
        this.file = file;
        this.clock = clock;
        if (file.isPresent() && Files.exists(file.get())) {
            try {
                for (Entry e : ListEntriesResponse.parseFrom(Files.readAllBytes(file.get())).getEntriesList()) {
                    entries.put(e.getId(), e);
                    bySimilarity.put(SimilarKey.of(e), e.getId());
                }
            } catch (InvalidProtocolBufferException e) {
                throw new IOException("entries file " + file.get() + " is corrupt: " + e.getMessage(), e);
            }
        }
    }

    /** Called after every change. */
    public void addListener(Runnable listener) {
        listeners.add(listener);
    }

    /** Outcome of a create. */
    public record CreateResult(int code, String message, Entry entry) {
    }

    /** Creates entries; they are persisted, and listeners told, once for the batch. */
    public List<CreateResult> createAll(List<Entry> requested) {
        List<CreateResult> out = new ArrayList<>();
        synchronized (this) {
            requested.forEach(e -> out.add(createOne(e)));
            if (out.stream().anyMatch(r -> r.code() == 0)) {
                persist();
            }
        }
        if (out.stream().anyMatch(r -> r.code() == 0)) {
            fire();
        }
        return out;
    }

    /** Creates an entry, or reports ALREADY_EXISTS with the similar existing one (SPIRE's semantics). */
    public CreateResult create(Entry requested) {
        CreateResult r;
        synchronized (this) {
            r = createOne(requested);
            if (r.code() == 0) {
                persist();
            }
        }
        if (r.code() == 0) {
            fire();
        }
        return r;
    }

    private synchronized CreateResult createOne(Entry requested) {
        Optional<String> invalid = validate(requested);
        if (invalid.isPresent()) {
            return new CreateResult(3, "failed to convert entry: " + invalid.get(), null);
        }
        Entry created;
        synchronized (this) {
            String similarId = bySimilarity.get(SimilarKey.of(requested));
            if (similarId != null) {
                return new CreateResult(6, "similar entry already exists", entries.get(similarId));
            }
            String id = requested.getId().isEmpty() ? UUID.randomUUID().toString() : requested.getId();
            if (entries.containsKey(id)) {
                return new CreateResult(6, "entry with that ID already exists", entries.get(id));
            }
            created = requested.toBuilder().setId(id).setCreatedAt(clock.instant().getEpochSecond())
                    .setRevisionNumber(++revision).build();
            entries.put(id, created);
            bySimilarity.put(SimilarKey.of(created), id);
        }
        return new CreateResult(0, "", created);
    }

    /** Replaces an entry's fields (all of them: the dev server ignores input masks). */
    public CreateResult update(Entry requested) {
        if (requested.getId().isEmpty()) {
            return new CreateResult(3, "failed to convert entry: missing entry ID", null);
        }
        Optional<String> invalid = validate(requested);
        if (invalid.isPresent()) {
            return new CreateResult(3, "failed to convert entry: " + invalid.get(), null);
        }
        Entry updated;
        synchronized (this) {
            Entry old = entries.get(requested.getId());
            if (old == null) {
                return new CreateResult(5, "entry not found", null);
            }
            updated = requested.toBuilder().setCreatedAt(old.getCreatedAt()).setRevisionNumber(++revision).build();
            entries.put(updated.getId(), updated);
            bySimilarity.remove(SimilarKey.of(old));
            bySimilarity.put(SimilarKey.of(updated), updated.getId());
            persist();
        }
        fire();
        return new CreateResult(0, "", updated);
    }

    /** Deletes by id: 0 OK, 3 missing id, 5 not found. */
    public int delete(String id) {
        if (id.isEmpty()) {
            return 3;
        }
        synchronized (this) {
            Entry removed = entries.remove(id);
            if (removed == null) {
                return 5;
            }
            bySimilarity.remove(SimilarKey.of(removed));
            persist();
        }
        fire();
        return 0;
    }

    /** A snapshot of all entries, ordered by id. */
    public synchronized List<Entry> all() {
        return new ArrayList<>(entries.values());
    }

    /** The entry with {@code id}. */
    public synchronized Optional<Entry> get(String id) {
        return Optional.ofNullable(entries.get(id));
    }

    /** Entries whose selectors are all among {@code selectors} (SPIRE's subset match), not admin/downstream. */
    public List<Entry> matching(Set<Selector> selectors) {
        List<Entry> out = new ArrayList<>();
        for (Entry e : all()) {
            if (!e.getAdmin() && !e.getDownstream() && selectors.containsAll(e.getSelectorsList())) {
                out.add(e);
            }
        }
        return out;
    }

    private Optional<String> validate(Entry e) {
        if (!e.hasSpiffeId()) {
            return Optional.of("request must specify SPIFFE ID");
        }
        Optional<String> id = checkId("spiffe ID", e.getSpiffeId(), true);
        if (id.isPresent()) {
            return id;
        }
        Optional<String> parent = checkId("parent ID", e.getParentId(), false);
        if (parent.isPresent()) {
            return parent;
        }
        if (e.getSelectorsCount() == 0) {
            return Optional.of("selector list is empty");
        }
        for (Selector s : e.getSelectorsList()) {
            if (s.getType().isEmpty()) {
                return Optional.of("missing selector type");
            }
            if (s.getType().contains(":")) {
                return Optional.of("selector type contains ':'");
            }
            if (s.getValue().isEmpty()) {
                return Optional.of("missing selector value");
            }
        }
        if (e.getHint().length() > 1024) {
            return Optional.of("hint is too long, max length is 1024 characters");
        }
        return Optional.empty();
    }

    private Optional<String> checkId(String what, SPIFFEID id, boolean reservedCheck) {
        if (!id.getTrustDomain().equals(trustDomain.getName())) {
            return Optional.of("invalid " + what + ": \"spiffe://" + id.getTrustDomain() + id.getPath()
                    + "\" is not a member of trust domain \"" + trustDomain.getName() + "\"");
        }
        try {
            dev.meshauth.spire.SpiffeIds.parse("spiffe://" + id.getTrustDomain() + id.getPath());
        } catch (dev.meshauth.spire.SvidException ex) {
            return Optional.of("invalid " + what + ": " + ex.getMessage());
        }
        if (id.getPath().isEmpty()) {
            return Optional.of("invalid " + what + ": path cannot be empty");
        }
        if (reservedCheck && (id.getPath().equals("/spire") || id.getPath().startsWith("/spire/"))) {
            return Optional.of("invalid " + what + ": \"" + id.getPath() + "\" is reserved");
        }
        return Optional.empty();
    }

    private void persist() {
        if (file.isEmpty()) {
            return;
        }
        try {
            Files.createDirectories(file.get().toAbsolutePath().getParent());
            DevCa.writeAtomically(file.get(),
                    ListEntriesResponse.newBuilder().addAllEntries(entries.values()).build().toByteArray());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot persist entries to " + file.get(), e);
        }
    }

    private void fire() {
        listeners.forEach(Runnable::run);
    }
}
