package dev.meshauth.bpf.datapath;

/**
 * The enforcement program's stack frame: offsets from r10 of every region it keeps, and the struct field
 * offsets it reads from the map layouts ({@link DatapathCodecs}, the one definition). The whole frame is
 * zeroed on entry, so every key's padding is zero and the verifier sees no uninitialized byte.
 */
final class Frame {
    private Frame() {
    }

    /** The packet's tuple, in {@code struct ct_key} layout (the conntrack key of its direction). */
    static final int FLOW = -40;
    /** The reverse tuple (or an ICMP error's inner tuple), {@code struct ct_key}. */
    static final int REV = -80;
    /** {@code struct ipcache_key}. */
    static final int IPC_KEY = -104;
    /** {@code struct policy_key}. */
    static final int POL_KEY = -120;
    /** {@code struct signal_msg}: the auth-required record, whose auth key is built as the packet is judged. */
    static final int RECORD = -136;
    /** {@code struct ct_value} to write. */
    static final int CT_VAL = -152;
    /** {@code struct frag_key}. */
    static final int FRAG_KEY = -192;
    /** Header bytes: the IPv4 (20) or IPv6 (40) header, later an ICMP error's inner header. */
    static final int HDR = -232;
    /** L4 header bytes (16). */
    static final int L4 = -248;
    /** u64 ktime_get_ns of this packet. */
    static final int NOW = -256;
    /** {@code struct frag_value} to write. */
    static final int FRAG_VAL = -264;
    /** u32 scalars. */
    static final int SCRATCH_KEY = -268;
    static final int COUNTER_KEY = -272;
    static final int L4OFF = -276;
    /** Non-zero for a non-first fragment. */
    static final int FRAGOFF = -280;
    /** Non-zero if more fragments follow. */
    static final int MF = -284;
    static final int FRAG_ID = -288;
    static final int TCPFLAGS = -292;
    /** {@link #TRUNCATED}, {@link #FRAG_UNKNOWN}, {@link #ICMP_ERROR} bits. */
    static final int STATUS = -296;
    static final int EP_FLAGS = -300;
    static final int LOCAL_ID = -304;
    /** Flags of an unexpired forward conntrack entry this side has not approved yet (0 if none). */
    static final int CT_FOUND = -308;
    /** The port the policy matches: the destination port (host order), or the ICMP type. */
    static final int POLICY_PORT = -312;
    /** Non-zero if the forward tuple has an entry (expired or not): a new connection updates it in place. */
    static final int CT_EXISTS = -316;
    /** Bytes of stack in use (zeroed on entry). */
    static final int SIZE = 320;

    /** STATUS bits. */
    static final int TRUNCATED = 1;
    static final int FRAG_UNKNOWN = 2;
    static final int ICMP_ERROR = 4;

    // Field offsets within the structs above.
    static final int CT_SADDR = DatapathCodecs.offset(DatapathCodecs.CT_KEY, "saddr");
    static final int CT_DADDR = DatapathCodecs.offset(DatapathCodecs.CT_KEY, "daddr");
    static final int CT_SPORT = DatapathCodecs.offset(DatapathCodecs.CT_KEY, "sport");
    static final int CT_DPORT = DatapathCodecs.offset(DatapathCodecs.CT_KEY, "dport");
    static final int CT_PROTO = DatapathCodecs.offset(DatapathCodecs.CT_KEY, "proto");
    static final int CT_FAMILY = DatapathCodecs.offset(DatapathCodecs.CT_KEY, "family");
    static final int CV_EXPIRES = DatapathCodecs.offset(DatapathCodecs.CT_VALUE, "expires_ns");
    static final int CV_FLAGS = DatapathCodecs.offset(DatapathCodecs.CT_VALUE, "flags");
    static final int FK_SADDR = DatapathCodecs.offset(DatapathCodecs.FRAG_KEY, "saddr");
    static final int FK_ID = DatapathCodecs.offset(DatapathCodecs.FRAG_KEY, "id");
    static final int FK_PROTO = DatapathCodecs.offset(DatapathCodecs.FRAG_KEY, "proto");
    static final int FK_FAMILY = DatapathCodecs.offset(DatapathCodecs.FRAG_KEY, "family");
    static final int FV_SPORT = DatapathCodecs.offset(DatapathCodecs.FRAG_VALUE, "sport");
    static final int FV_POLICY_PORT = DatapathCodecs.offset(DatapathCodecs.FRAG_VALUE, "policy_port");
    static final int IK_PREFIXLEN = DatapathCodecs.offset(DatapathCodecs.IPCACHE_KEY, "prefixlen");
    static final int IK_FAMILY = DatapathCodecs.offset(DatapathCodecs.IPCACHE_KEY, "family");
    static final int IK_ADDR = DatapathCodecs.offset(DatapathCodecs.IPCACHE_KEY, "addr");
    static final int IV_IDENTITY = DatapathCodecs.offset(DatapathCodecs.IPCACHE_VALUE, "sec_identity");
    static final int IV_NODE = DatapathCodecs.offset(DatapathCodecs.IPCACHE_VALUE, "node_id");
    static final int PK_PREFIXLEN = DatapathCodecs.offset(DatapathCodecs.POLICY_KEY, "prefixlen");
    static final int PK_LOCAL = DatapathCodecs.offset(DatapathCodecs.POLICY_KEY, "local_id");
    static final int PK_REMOTE = DatapathCodecs.offset(DatapathCodecs.POLICY_KEY, "remote_id");
    static final int PK_DIR = DatapathCodecs.offset(DatapathCodecs.POLICY_KEY, "dir");
    static final int PK_PROTO = DatapathCodecs.offset(DatapathCodecs.POLICY_KEY, "proto");
    static final int PK_DPORT = DatapathCodecs.offset(DatapathCodecs.POLICY_KEY, "dport");
    static final int PV_DENY = DatapathCodecs.offset(DatapathCodecs.POLICY_VALUE, "deny");
    static final int PV_AUTH_TYPE = DatapathCodecs.offset(DatapathCodecs.POLICY_VALUE, "auth_type");
    static final int SIG_NR = DatapathCodecs.offset(DatapathCodecs.SIGNAL_MSG, "signal_nr");
    private static final int SIG_AUTH = DatapathCodecs.offset(DatapathCodecs.SIGNAL_MSG, "auth");
    /** The auth key inside the record, and its fields. */
    static final int AUTH_KEY = RECORD + SIG_AUTH;
    static final int AK_LOCAL = DatapathCodecs.offset(DatapathCodecs.SIGNAL_MSG, "auth", "local_sec_label") - SIG_AUTH;
    static final int AK_REMOTE = DatapathCodecs.offset(DatapathCodecs.SIGNAL_MSG, "auth", "remote_sec_label") - SIG_AUTH;
    static final int AK_NODE = DatapathCodecs.offset(DatapathCodecs.SIGNAL_MSG, "auth", "remote_node_id") - SIG_AUTH;
    static final int AK_TYPE = DatapathCodecs.offset(DatapathCodecs.SIGNAL_MSG, "auth", "auth_type") - SIG_AUTH;
    static final int AK_PAD = DatapathCodecs.offset(DatapathCodecs.SIGNAL_MSG, "auth", "pad") - SIG_AUTH;
    static final int RECORD_SIZE = (int) DatapathCodecs.SIGNAL_MSG.byteSize();
    /** Field offsets in a held-SYN record (ring buffer memory, not the stack). */
    static final int HS_NR = DatapathCodecs.offset(DatapathCodecs.HELD_SYN, "signal_nr");
    static final int HS_AUTH = DatapathCodecs.offset(DatapathCodecs.HELD_SYN, "auth");
    static final int HS_ROLE = DatapathCodecs.offset(DatapathCodecs.HELD_SYN, "role");
    static final int HS_LEN = DatapathCodecs.offset(DatapathCodecs.HELD_SYN, "len");
    static final int HS_IFINDEX = DatapathCodecs.offset(DatapathCodecs.HELD_SYN, "ifindex");
    static final int HS_PAD = DatapathCodecs.offset(DatapathCodecs.HELD_SYN, "pad");
    static final int HS_FRAME = DatapathCodecs.offset(DatapathCodecs.HELD_SYN, "frame");

    static {
        if (FLOW + DatapathCodecs.CT_KEY.byteSize() > 0 || REV + DatapathCodecs.CT_KEY.byteSize() > FLOW
                || IPC_KEY + DatapathCodecs.IPCACHE_KEY.byteSize() > REV || POL_KEY + DatapathCodecs.POLICY_KEY.byteSize() > IPC_KEY
                || RECORD + RECORD_SIZE > POL_KEY || CT_VAL + DatapathCodecs.CT_VALUE.byteSize() > RECORD
                || FRAG_KEY + DatapathCodecs.FRAG_KEY.byteSize() > CT_VAL || HDR + 40 > FRAG_KEY || L4 + 16 > HDR
                || NOW + 8 > L4 || FRAG_VAL + DatapathCodecs.FRAG_VALUE.byteSize() > NOW || SCRATCH_KEY + 4 > FRAG_VAL
                || CT_EXISTS + 4 > POLICY_PORT || -SIZE > CT_EXISTS || SIZE % 8 != 0 || SIZE > 512) {
            throw new ExceptionInInitializerError("the enforcement program's stack regions overlap");
        }
    }
}
