package dev.meshauth.policy.nodeid;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Numbers nodes for auth keys when Cilium's own ids are not used (meshauth's standalone datapath). Ids
 * are 1 to 65,535 (0 is this node in Cilium's key). A node keeps its id while it exists and, through
 * {@link NodeIdStore}, across restarts, so pinned auth entries stay meaningful. A freed id is reused
 * only when every id has been used once, oldest freed first: an id comes back as late as possible, after
 * garbage collection long removed the entries of the node that had it. A node that returns gets its old
 * id back if nobody took it meanwhile. Not thread-safe: one owner (the cluster watch) calls it.
 */
public final class NodeIdAllocator {
    /** The largest id: the auth key's remote_node_id is 16 bits. */
    public static final int MAX_ID = 0xFFFF;

    /**
     * What the allocator holds, as stored.
     *
     * @param assigned live nodes and their ids
     * @param next     the lowest id never used
     * @param freed    ids given back, oldest first, with the node that last had each
     */
    public record State(Map<String, Integer> assigned, int next, List<Freed> freed) {
        /** Copies. */
        public State {
            assigned = Map.copyOf(assigned);
            freed = List.copyOf(freed);
        }

        /** Nothing allocated yet. */
        public static final State EMPTY = new State(Map.of(), 1, List.of());
    }

    /**
     * An id given back.
     *
     * @param id   the id
     * @param node the node that had it
     */
    public record Freed(int id, String node) {
    }

    private final Map<String, Integer> assigned = new HashMap<>();
    private final LinkedHashMap<String, Integer> freed = new LinkedHashMap<>(); // node -> id it had, oldest first
    private int next;

    /** From a stored state. */
    public NodeIdAllocator(State s) {
        if (s.next() < 1 || s.next() > MAX_ID + 1) {
            throw new IllegalArgumentException("next id must be 1.." + (MAX_ID + 1) + ", got " + s.next());
        }
        assigned.putAll(s.assigned());
        s.freed().forEach(f -> freed.put(f.node(), f.id()));
        next = s.next();
    }

    /** The id of {@code node}, allocating one if it has none; empty when all 65,535 are taken by live nodes. */
    public Optional<Integer> idOf(String node) {
        Integer id = assigned.get(node);
        if (id != null) {
            return Optional.of(id);
        }
        Integer own = freed.remove(node);
        if (own != null) {
            id = own;
        } else if (next <= MAX_ID) {
            id = next++;
        } else if (!freed.isEmpty()) {
            var oldest = freed.entrySet().iterator();
            id = oldest.next().getValue();
            oldest.remove();
        } else {
            return Optional.empty();
        }
        assigned.put(node, id);
        return Optional.of(id);
    }

    /** True if {@code node} holds an id now. */
    public boolean has(String node) {
        return assigned.containsKey(node);
    }

    /** {@code node} is gone: its id may be reused, as late as possible. */
    public void release(String node) {
        Integer id = assigned.remove(node);
        if (id != null) {
            freed.remove(node);
            freed.put(node, id);
        }
    }

    /** What to store. */
    public State state() {
        return new State(assigned, next, freed.entrySet().stream().map(e -> new Freed(e.getValue(), e.getKey())).toList());
    }
}
