// Exceptions taken to EL2. Until the guests issue adds trap dispatch for
// lower ELs, every exception is unexpected: report everything a developer
// needs (vector, decoded syndrome, ELR/FAR/SPSR, all registers) and halt
// this CPU. Other CPUs go on.
#include "arch/arm64/exception_class.hpp"
#include "arch/arm64/frame.hpp"
#include "core/log.hpp"
#include "core/panic.hpp"
#include "core/sched.hpp"

namespace setwise::core {

using arm64::ExceptionFrame;
using arm64::Syndrome;
using arm64::VectorKind;

void report_exception(const ExceptionFrame& f, VectorKind kind) {
    Console& c = console();
    Console::Hold hold(c);
    const Syndrome s = Syndrome::decode(f.esr);
    fmt::format_to(c, "(setwise) unexpected exception on CPU{}: {}\n", this_cpu_index(),
                   arm64::vector_kind_name(kind));
    fmt::format_to(c, "(setwise)   ESR {:#010x}: EC {:#04x} ({}), IL {}, ISS {:#08x}\n", f.esr, s.raw_ec,
                   arm64::exception_class_name(s.ec), s.il32 ? 32 : 16, s.iss);
    fmt::format_to(c, "(setwise)   ELR {:#018x}  FAR {:#018x}  SPSR {:#010x}  SP {:#018x}\n", f.elr, f.far,
                   f.spsr, f.sp);
    for (unsigned i = 0; i < 31; i += 3) {
        c.write("(setwise)  ");
        for (unsigned j = i; j < i + 3 && j < 31; ++j) fmt::format_to(c, " x{:<2} {:#018x}", j, f.x[j]);
        c.write("\n");
    }
    fmt::format_to(c, "(setwise) CPU{} halted\n", this_cpu_index());
}

} // namespace setwise::core

extern "C" void el2_exception(setwise::arm64::ExceptionFrame* frame, setwise::u64 kind) {
    const auto k = static_cast<setwise::arm64::VectorKind>(kind & 15);
    // Vectors 8..15 are taken from a lower EL: a guest's.
    if (kind >= 8) {
        setwise::core::guest_exception(*frame, k);
        return;
    }
    setwise::core::report_exception(*frame, k);
    setwise::core::console().flush();
    setwise::core::halt_this_cpu();
}
