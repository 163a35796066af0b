# QEMU end-to-end tests. Each boots the real image, matches serial markers
# (tests/qemu/run_qemu_test.py), always under a hard timeout, and keeps its
# serial log in <build>/qemu-logs/<name>.log.
find_program(QEMU_AARCH64 qemu-system-aarch64 REQUIRED)
find_package(Python3 REQUIRED COMPONENTS Interpreter)
get_filename_component(SETWISE_IMAGE_DIR ${SETWISE_IMAGE} DIRECTORY)
set(QEMU_LOG_DIR ${CMAKE_BINARY_DIR}/qemu-logs)
set(RUNNER ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/run_qemu_test.py)
set(QEMU_TIMEOUT 90)

# add_qemu_test(NAME <n> [TIMEOUT s] EXPECT <re>... FINISH <re> [REJECT <re>...] [NO_DEFAULT_FAIL] QEMU <args>...)
function(add_qemu_test)
    cmake_parse_arguments(T "NO_DEFAULT_FAIL" "NAME;FINISH;TIMEOUT" "EXPECT;REJECT;QEMU" ${ARGN})
    if(NOT T_TIMEOUT)
        set(T_TIMEOUT ${QEMU_TIMEOUT})
    endif()
    set(args --name ${T_NAME} --log ${QEMU_LOG_DIR}/${T_NAME}.log --timeout ${T_TIMEOUT} --finish ${T_FINISH})
    foreach(e ${T_EXPECT})
        list(APPEND args --expect ${e})
    endforeach()
    foreach(e ${T_REJECT})
        list(APPEND args --reject ${e})
    endforeach()
    if(T_NO_DEFAULT_FAIL)
        list(APPEND args --no-default-fail)
    endif()
    add_test(NAME qemu.${T_NAME} COMMAND ${RUNNER} ${args} -- ${QEMU_AARCH64} ${T_QEMU})
    math(EXPR hard "${T_TIMEOUT} + 30")
    set_tests_properties(qemu.${T_NAME} PROPERTIES TIMEOUT ${hard} LABELS qemu)
endfunction()

set(QEMU_BASE -cpu cortex-a57 -m 1G -display none -monitor none -serial stdio -nodefaults)

# Boot to the banner with 1, 2 and 4 CPUs on GICv2 and GICv3.
foreach(gic 2 3)
    foreach(n 1 2 4)
        add_qemu_test(NAME boot_gicv${gic}_smp${n}
            EXPECT "setwise ${SETWISE_VERSION} .* entered at EL2"
                   "CPUs: ${n} of ${n} online"
                   "GIC: v${gic}"
            FINISH "boot complete: ${n} of ${n} CPUs online"
            QEMU -M virt,virtualization=on,gic-version=${gic} ${QEMU_BASE} -smp ${n}
                 -kernel ${SETWISE_IMAGE})
    endforeach()
endforeach()

# A second load address: the jump shim enters setwise at 0x5fe00000 instead
# of where QEMU -kernel puts it.
add_qemu_test(NAME load_address_high
    EXPECT "image at 0x5fe00000"
    FINISH "boot complete: 4 of 4 CPUs online"
    QEMU -M virt,virtualization=on ${QEMU_BASE} -smp 4 -kernel ${SETWISE_IMAGE_DIR}/jump_shim.bin
         -device loader,file=${SETWISE_IMAGE},addr=0x5fe00000,force-raw=on)

# Bad command line: one warning per bad token, defaults kept and shown.
add_qemu_test(NAME bad_cmdline
    EXPECT "warning: unknown option 'frobnicate'"
           "warning: invalid value 'maybe' for 'sw-tracking'"
           "options: loglvl=info sw-tracking=on"
    FINISH "boot complete: 2 of 2 CPUs online"
    QEMU -M virt,virtualization=on ${QEMU_BASE} -smp 2 -kernel ${SETWISE_IMAGE} -append "frobnicate=1 sw-tracking=maybe")

# A good command line takes effect.
add_qemu_test(NAME cmdline_applied
    EXPECT "options: .*sw-tracking=off maxcpus=2"
    FINISH "boot complete: 2 of 4 CPUs online"
    QEMU -M virt,virtualization=on ${QEMU_BASE} -smp 4 -kernel ${SETWISE_IMAGE} -append "no-sw-tracking maxcpus=2")

# Entered at EL1 (no virtualization extensions): refused with a message.
add_qemu_test(NAME refuse_el1
    FINISH "setwise must be entered at EL2, but was entered at EL1"
    QEMU -M virt ${QEMU_BASE} -kernel ${SETWISE_IMAGE})

# The unexpected-exception report at EL2 (selftest=el2-fault): the decoded
# class, the fault address, all registers, then that CPU halts.
add_qemu_test(NAME el2_exception_report
    NO_DEFAULT_FAIL
    REJECT "PANIC"
    EXPECT "boot complete: 2 of 2 CPUs online"
           "unexpected exception on CPU0: synchronous, EL2"
           "ESR 0x9[0-9a-f]+: EC 0x25 \\(data abort at EL2\\)"
           "FAR 0x0000008000000000"
           "x0 +0x[0-9a-f]{16} +x1 +0x"
           "x30 +0x[0-9a-f]{16}"
    FINISH "CPU0 halted"
    QEMU -M virt,virtualization=on ${QEMU_BASE} -smp 2 -kernel ${SETWISE_IMAGE} -append "selftest=el2-fault")
