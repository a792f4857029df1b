package dev.meshauth.bpf.sys;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every {@code union bpf_attr} member and info struct field this code uses sits at the offset the kernel's
 * include/uapi/linux/bpf.h gives it (6.18; the table in shared/reference/bpf-kernel.md), and each
 * command passes {@code offsetofend} of its last field. The expected values are the headers', typed in
 * here, not computed from the layouts.
 */
class BpfAttrsTest {
    static Stream<Arguments> offsets() {
        return Stream.of(
                row(BpfAttrs.MAP_CREATE, "map_type", 0, 4), row(BpfAttrs.MAP_CREATE, "key_size", 4, 4),
                row(BpfAttrs.MAP_CREATE, "value_size", 8, 4), row(BpfAttrs.MAP_CREATE, "max_entries", 12, 4),
                row(BpfAttrs.MAP_CREATE, "map_flags", 16, 4), row(BpfAttrs.MAP_CREATE, "inner_map_fd", 20, 4),
                row(BpfAttrs.MAP_CREATE, "numa_node", 24, 4), row(BpfAttrs.MAP_CREATE, "map_name", 28, 16),
                row(BpfAttrs.MAP_CREATE, "map_ifindex", 44, 4), row(BpfAttrs.MAP_CREATE, "btf_fd", 48, 4),
                row(BpfAttrs.MAP_CREATE, "btf_key_type_id", 52, 4), row(BpfAttrs.MAP_CREATE, "btf_value_type_id", 56, 4),
                row(BpfAttrs.MAP_CREATE, "btf_vmlinux_value_type_id", 60, 4), row(BpfAttrs.MAP_CREATE, "map_extra", 64, 8),
                row(BpfAttrs.MAP_ELEM, "map_fd", 0, 4), row(BpfAttrs.MAP_ELEM, "key", 8, 8),
                row(BpfAttrs.MAP_ELEM, "value", 16, 8), row(BpfAttrs.MAP_ELEM, "flags", 24, 8),
                row(BpfAttrs.MAP_BATCH, "in_batch", 0, 8), row(BpfAttrs.MAP_BATCH, "out_batch", 8, 8),
                row(BpfAttrs.MAP_BATCH, "keys", 16, 8), row(BpfAttrs.MAP_BATCH, "values", 24, 8),
                row(BpfAttrs.MAP_BATCH, "count", 32, 4), row(BpfAttrs.MAP_BATCH, "map_fd", 36, 4),
                row(BpfAttrs.MAP_BATCH, "elem_flags", 40, 8), row(BpfAttrs.MAP_BATCH, "flags", 48, 8),
                row(BpfAttrs.PROG_LOAD, "prog_type", 0, 4), row(BpfAttrs.PROG_LOAD, "insn_cnt", 4, 4),
                row(BpfAttrs.PROG_LOAD, "insns", 8, 8), row(BpfAttrs.PROG_LOAD, "license", 16, 8),
                row(BpfAttrs.PROG_LOAD, "log_level", 24, 4), row(BpfAttrs.PROG_LOAD, "log_size", 28, 4),
                row(BpfAttrs.PROG_LOAD, "log_buf", 32, 8), row(BpfAttrs.PROG_LOAD, "kern_version", 40, 4),
                row(BpfAttrs.PROG_LOAD, "prog_flags", 44, 4), row(BpfAttrs.PROG_LOAD, "prog_name", 48, 16),
                row(BpfAttrs.PROG_LOAD, "prog_ifindex", 64, 4), row(BpfAttrs.PROG_LOAD, "expected_attach_type", 68, 4),
                row(BpfAttrs.OBJ_PIN, "pathname", 0, 8), row(BpfAttrs.OBJ_PIN, "bpf_fd", 8, 4),
                row(BpfAttrs.OBJ_PIN, "file_flags", 12, 4),
                row(BpfAttrs.PROG_TEST_RUN, "prog_fd", 0, 4), row(BpfAttrs.PROG_TEST_RUN, "retval", 4, 4),
                row(BpfAttrs.PROG_TEST_RUN, "data_size_in", 8, 4), row(BpfAttrs.PROG_TEST_RUN, "data_size_out", 12, 4),
                row(BpfAttrs.PROG_TEST_RUN, "data_in", 16, 8), row(BpfAttrs.PROG_TEST_RUN, "data_out", 24, 8),
                row(BpfAttrs.PROG_TEST_RUN, "repeat", 32, 4), row(BpfAttrs.PROG_TEST_RUN, "duration", 36, 4),
                row(BpfAttrs.PROG_TEST_RUN, "ctx_size_in", 40, 4), row(BpfAttrs.PROG_TEST_RUN, "ctx_size_out", 44, 4),
                row(BpfAttrs.PROG_TEST_RUN, "ctx_in", 48, 8), row(BpfAttrs.PROG_TEST_RUN, "ctx_out", 56, 8),
                row(BpfAttrs.PROG_TEST_RUN, "flags", 64, 4), row(BpfAttrs.PROG_TEST_RUN, "cpu", 68, 4),
                row(BpfAttrs.PROG_TEST_RUN, "batch_size", 72, 4),
                row(BpfAttrs.GET_ID, "id", 0, 4), row(BpfAttrs.GET_ID, "next_id", 4, 4), row(BpfAttrs.GET_ID, "open_flags", 8, 4),
                row(BpfAttrs.OBJ_GET_INFO_BY_FD, "bpf_fd", 0, 4), row(BpfAttrs.OBJ_GET_INFO_BY_FD, "info_len", 4, 4),
                row(BpfAttrs.OBJ_GET_INFO_BY_FD, "info", 8, 8),
                row(BpfAttrs.BTF_LOAD, "btf", 0, 8), row(BpfAttrs.BTF_LOAD, "btf_log_buf", 8, 8),
                row(BpfAttrs.BTF_LOAD, "btf_size", 16, 4), row(BpfAttrs.BTF_LOAD, "btf_log_size", 20, 4),
                row(BpfAttrs.BTF_LOAD, "btf_log_level", 24, 4),
                row(BpfAttrs.LINK_CREATE_TCX, "prog_fd", 0, 4), row(BpfAttrs.LINK_CREATE_TCX, "target_ifindex", 4, 4),
                row(BpfAttrs.LINK_CREATE_TCX, "attach_type", 8, 4), row(BpfAttrs.LINK_CREATE_TCX, "flags", 12, 4),
                row(BpfAttrs.LINK_CREATE_TCX, "relative_fd", 16, 4), row(BpfAttrs.LINK_CREATE_TCX, "expected_revision", 24, 8),
                row(BpfAttrs.LINK_DETACH, "link_fd", 0, 4),
                row(BpfAttrs.MAP_INFO, "type", 0, 4), row(BpfAttrs.MAP_INFO, "id", 4, 4), row(BpfAttrs.MAP_INFO, "key_size", 8, 4),
                row(BpfAttrs.MAP_INFO, "value_size", 12, 4), row(BpfAttrs.MAP_INFO, "max_entries", 16, 4),
                row(BpfAttrs.MAP_INFO, "map_flags", 20, 4), row(BpfAttrs.MAP_INFO, "name", 24, 16),
                row(BpfAttrs.MAP_INFO, "ifindex", 40, 4), row(BpfAttrs.MAP_INFO, "btf_id", 64, 4),
                row(BpfAttrs.MAP_INFO, "btf_key_type_id", 68, 4), row(BpfAttrs.MAP_INFO, "btf_value_type_id", 72, 4),
                row(BpfAttrs.MAP_INFO, "map_extra", 80, 8),
                row(BpfAttrs.PROG_INFO, "type", 0, 4), row(BpfAttrs.PROG_INFO, "id", 4, 4), row(BpfAttrs.PROG_INFO, "tag", 8, 8),
                row(BpfAttrs.PROG_INFO, "jited_prog_len", 16, 4), row(BpfAttrs.PROG_INFO, "xlated_prog_len", 20, 4),
                row(BpfAttrs.PROG_INFO, "jited_prog_insns", 24, 8), row(BpfAttrs.PROG_INFO, "xlated_prog_insns", 32, 8),
                row(BpfAttrs.PROG_INFO, "load_time", 40, 8), row(BpfAttrs.PROG_INFO, "created_by_uid", 48, 4),
                row(BpfAttrs.PROG_INFO, "nr_map_ids", 52, 4), row(BpfAttrs.PROG_INFO, "map_ids", 56, 8),
                row(BpfAttrs.PROG_INFO, "name", 64, 16));
    }

    static Arguments row(StructLayout layout, String field, long offset, long size) {
        return Arguments.of(layout.name().orElseThrow() + "." + field, layout, field, offset, size);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("offsets")
    void fieldSitsWhereTheKernelHeaderPutsIt(String name, StructLayout layout, String field, long offset, long size) {
        assertThat(BpfAttrs.offset(layout, field)).as(name + " offset").isEqualTo(offset);
        assertThat(layout.select(MemoryLayout.PathElement.groupElement(field)).byteSize()).as(name + " size")
                .isEqualTo(size);
    }

    static Stream<Arguments> sizes() {
        // offsetofend of the last field each command passes (libbpf's sizes), and the info structs' sizeof.
        return Stream.of(Arguments.of(BpfCommand.MAP_CREATE, 72), Arguments.of(BpfCommand.MAP_LOOKUP_ELEM, 32),
                Arguments.of(BpfCommand.MAP_UPDATE_ELEM, 32), Arguments.of(BpfCommand.MAP_DELETE_ELEM, 32),
                Arguments.of(BpfCommand.MAP_GET_NEXT_KEY, 32), Arguments.of(BpfCommand.PROG_LOAD, 72),
                Arguments.of(BpfCommand.OBJ_PIN, 16), Arguments.of(BpfCommand.OBJ_GET, 16),
                Arguments.of(BpfCommand.PROG_TEST_RUN, 76), Arguments.of(BpfCommand.PROG_GET_FD_BY_ID, 12),
                Arguments.of(BpfCommand.OBJ_GET_INFO_BY_FD, 16), Arguments.of(BpfCommand.BTF_LOAD, 28),
                Arguments.of(BpfCommand.MAP_LOOKUP_BATCH, 56), Arguments.of(BpfCommand.MAP_UPDATE_BATCH, 56),
                Arguments.of(BpfCommand.MAP_DELETE_BATCH, 56), Arguments.of(BpfCommand.LINK_CREATE, 32),
                Arguments.of(BpfCommand.LINK_DETACH, 4));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sizes")
    void eachCommandPassesOffsetofendOfItsLastField(BpfCommand command, int size) {
        assertThat(command.attrSize()).isEqualTo(size).isLessThanOrEqualTo(BpfCall.ATTR_CAPACITY);
    }

    @org.junit.jupiter.api.Test
    void infoStructsHaveTheKernelsSize() {
        assertThat(BpfAttrs.MAP_INFO.byteSize()).isEqualTo(104);
        assertThat(BpfAttrs.PROG_INFO.byteSize()).isEqualTo(232);
    }
}
