package dev.meshauth.bpf.sys;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The members of {@code union bpf_attr} this code passes, one named {@link StructLayout} per command (as
 * cilium/ebpf has {@code sys.MapCreateAttr}, {@code sys.LinkCreateTcxAttr}), and the info structs the
 * kernel fills. Each layout ends at the last field set, so {@code byteSize()} is the size passed to
 * bpf(2) ({@code offsetofend}, as libbpf passes it). Every offset used anywhere comes from these layouts;
 * {@code BpfAttrsTest} pins each one against the kernel's headers (include/uapi/linux/bpf.h, 6.18).
 */
public final class BpfAttrs {
    private BpfAttrs() {
    }

    private static MemoryLayout u32(String name) {
        return JAVA_INT.withName(name);
    }

    private static MemoryLayout u64(String name) {
        return JAVA_LONG.withName(name);
    }

    private static MemoryLayout bytes(String name, int n) {
        return MemoryLayout.sequenceLayout(n, JAVA_BYTE).withName(name);
    }

    private static MemoryLayout pad(int n) {
        return MemoryLayout.paddingLayout(n);
    }

    /** BPF_MAP_CREATE. */
    public static final StructLayout MAP_CREATE = MemoryLayout.structLayout(
            u32("map_type"), u32("key_size"), u32("value_size"), u32("max_entries"), u32("map_flags"),
            u32("inner_map_fd"), u32("numa_node"), bytes("map_name", 16), u32("map_ifindex"), u32("btf_fd"),
            u32("btf_key_type_id"), u32("btf_value_type_id"), u32("btf_vmlinux_value_type_id"), u64("map_extra"))
            .withName("map_create_attr");

    /** BPF_MAP_LOOKUP_ELEM, UPDATE_ELEM, DELETE_ELEM, GET_NEXT_KEY ({@code value} is {@code next_key} there). */
    public static final StructLayout MAP_ELEM = MemoryLayout.structLayout(
            u32("map_fd"), pad(4), u64("key"), u64("value"), u64("flags")).withName("map_elem_attr");

    /** BPF_MAP_*_BATCH ({@code batch}). */
    public static final StructLayout MAP_BATCH = MemoryLayout.structLayout(
            u64("in_batch"), u64("out_batch"), u64("keys"), u64("values"), u32("count"), u32("map_fd"),
            u64("elem_flags"), u64("flags")).withName("map_batch_attr");

    /** BPF_PROG_LOAD. */
    public static final StructLayout PROG_LOAD = MemoryLayout.structLayout(
            u32("prog_type"), u32("insn_cnt"), u64("insns"), u64("license"), u32("log_level"), u32("log_size"),
            u64("log_buf"), u32("kern_version"), u32("prog_flags"), bytes("prog_name", 16), u32("prog_ifindex"),
            u32("expected_attach_type")).withName("prog_load_attr");

    /** BPF_OBJ_PIN and BPF_OBJ_GET. */
    public static final StructLayout OBJ_PIN = MemoryLayout.structLayout(
            u64("pathname"), u32("bpf_fd"), u32("file_flags")).withName("obj_pin_attr");

    /** BPF_PROG_TEST_RUN ({@code test}). */
    public static final StructLayout PROG_TEST_RUN = MemoryLayout.structLayout(
            u32("prog_fd"), u32("retval"), u32("data_size_in"), u32("data_size_out"), u64("data_in"), u64("data_out"),
            u32("repeat"), u32("duration"), u32("ctx_size_in"), u32("ctx_size_out"), u64("ctx_in"), u64("ctx_out"),
            u32("flags"), u32("cpu"), u32("batch_size")).withName("prog_run_attr");

    /** BPF_PROG_GET_FD_BY_ID (and the other *_GET_FD_BY_ID). */
    public static final StructLayout GET_ID = MemoryLayout.structLayout(
            u32("id"), u32("next_id"), u32("open_flags")).withName("get_id_attr");

    /** BPF_OBJ_GET_INFO_BY_FD ({@code info}). */
    public static final StructLayout OBJ_GET_INFO_BY_FD = MemoryLayout.structLayout(
            u32("bpf_fd"), u32("info_len"), u64("info")).withName("info_by_fd_attr");

    /** BPF_BTF_LOAD. */
    public static final StructLayout BTF_LOAD = MemoryLayout.structLayout(
            u64("btf"), u64("btf_log_buf"), u32("btf_size"), u32("btf_log_size"), u32("btf_log_level"))
            .withName("btf_load_attr");

    /** BPF_LINK_CREATE with its {@code tcx} member. */
    public static final StructLayout LINK_CREATE_TCX = MemoryLayout.structLayout(
            u32("prog_fd"), u32("target_ifindex"), u32("attach_type"), u32("flags"), u32("relative_fd"), pad(4),
            u64("expected_revision")).withName("link_create_tcx_attr");

    /** BPF_LINK_DETACH. */
    public static final StructLayout LINK_DETACH = MemoryLayout.structLayout(u32("link_fd")).withName("link_detach_attr");

    /** {@code struct bpf_map_info} (104 bytes on 6.18; fields past {@code map_extra} are not read). */
    public static final StructLayout MAP_INFO = MemoryLayout.structLayout(
            u32("type"), u32("id"), u32("key_size"), u32("value_size"), u32("max_entries"), u32("map_flags"),
            bytes("name", 16), u32("ifindex"), u32("btf_vmlinux_value_type_id"), u64("netns_dev"), u64("netns_ino"),
            u32("btf_id"), u32("btf_key_type_id"), u32("btf_value_type_id"), u32("btf_vmlinux_id"), u64("map_extra"),
            pad(16)).withName("bpf_map_info");

    /** {@code struct bpf_prog_info} (232 bytes on 6.18; fields past {@code name} are not read). */
    public static final StructLayout PROG_INFO = MemoryLayout.structLayout(
            u32("type"), u32("id"), bytes("tag", 8), u32("jited_prog_len"), u32("xlated_prog_len"),
            u64("jited_prog_insns"), u64("xlated_prog_insns"), u64("load_time"), u32("created_by_uid"),
            u32("nr_map_ids"), u64("map_ids"), bytes("name", 16), pad(152)).withName("bpf_prog_info");

    /** Byte offset of {@code field} in {@code layout}; throws if the layout has no such field. */
    public static long offset(StructLayout layout, String field) {
        return layout.byteOffset(MemoryLayout.PathElement.groupElement(field));
    }
}
