package dev.meshauth.agent.cli;

import java.util.Locale;

/** {@code --node-ids}: where the remote node ids of auth keys come from. */
enum NodeIdSource {
    /** Cilium's with {@code --datapath cilium}, the source's otherwise. */
    AUTO,
    /** Cilium's node map, as Cilium's datapath computes them. */
    CILIUM,
    /** The endpoints file, or this agent's numbering of CiliumNodes. */
    SOURCE;

    /** As the flag spells it. */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
