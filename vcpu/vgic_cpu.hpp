// A vCPU's side of interrupt virtualisation on the physical CPU that runs
// it: the list registers around each guest entry, the virtual timer, the
// guest's accesses to the emulated GIC, and the state that moves with the
// vCPU when it leaves or takes a CPU (core/sched.cpp calls vcpu_put and
// vcpu_load). Target only.
//
// Around every stay in the guest (core/sched.cpp, guest_exception):
//
//   exit    vgic_exit():  read the LRs back and EOIcount, disable the
//                         virtual CPU interface (its maintenance interrupt
//                         drops), fold the LRs into the domain's VgicState,
//                         deactivate HW-linked interrupts the guest ended
//                         without an LR, sample the virtual timer's line
//           ... physical interrupts, the trap, perhaps another vCPU ...
//   entry   vgic_enter(): fill the LRs from the VgicState and enable the
//                         maintenance interrupts fill() asks for
//
// The virtual timer (KVM's scheme, virt/kvm/arm/arch_timer.c, read for the
// design): the guest programs CNTV_* directly. Its physical PPI (27) is
// taken at EL2 (HCR_EL2.IMO), priority-dropped but left active, and the
// virtual INTID 27 is made pending with a HW-linked LR: the guest's own EOI
// deactivates the physical interrupt, which can then fire again. The line
// is sampled from CNTV_CTL_EL0 at every exit (ENABLE and ISTATUS set, IMASK
// clear), because the guest lowers it without telling anyone. On a switch,
// the physical PPI's active state is set to what the incoming vCPU's
// virtual timer interrupt needs (active while it is pending or active in
// the vGIC), and the outgoing vCPU's timer is disabled so it cannot fire
// for someone else; while a vCPU is blocked, its deadline is watched by
// core/sched.cpp with the EL2 timer.
#pragma once

#include "arch/arm64/iss.hpp"
#include "setwise/types.hpp"
#include "vcpu/vcpu.hpp"
#include "vcpu/vgic_state.hpp"

namespace setwise::vcpu {

class Domain;

// Interrupts around a guest stay (see above). No-ops for a domain without
// a vGIC.
void vgic_exit(Vcpu& v);
void vgic_enter(Vcpu& v);

// Whether v has an interrupt waiting (pending, enabled, routed to it): a
// WFI returns at once, and a blocked v is woken.
bool vgic_has_pending(const Vcpu& v);

// The virtual timer's physical interrupt was taken (and priority-dropped)
// while v was on this CPU.
void vtimer_fired(Vcpu& v);

// The earliest of v's timer deadlines in physical counter ticks: its
// virtual timer's (from the saved state: only while v is off its CPU) if
// with_virtual, and its emulated physical timer's; ~0 if none is armed.
u64 timer_deadline(const Vcpu& v, bool with_virtual);
// v's deadline has passed (v off its CPU, or the physical timer's while it
// runs): raise the lines of the timers that fired.
void timers_expired(Vcpu& v, bool with_virtual);

// A trapped access to the EL1 physical timer: AArch64 CNTP_CTL_EL0 /
// CNTP_CVAL_EL0 / CNTP_TVAL_EL0, AArch32 CNTP_CTL / CNTP_TVAL (MCR/MRC) and
// CNTP_CVAL (MCRR/MRRC). On a read, *value is set. False if the access is
// not one of these.
bool ptimer_sysreg(Vcpu& v, arm64::SysRegKey key, bool read, u64* value);
bool ptimer_cp15(Vcpu& v, u32 key, bool read, u64* value);
bool ptimer_cp15_64(Vcpu& v, unsigned opc1, unsigned crm, bool read, u64* value);

// Move v's state into this CPU's registers, or out of them (EL1 context,
// FP/SIMD, EL2 controls, virtual timer, virtual CPU interface).
void vcpu_load(Vcpu& v);
void vcpu_put(Vcpu& v);

// The emulated GIC's frames (distributor; v3 redistributors): whether ipa
// is in one, and a guest load or store there (vcpu/trap.cpp has decoded the
// abort). A store kicks the vCPUs it gave something to.
bool vgic_claims(const Domain& d, Ipa ipa);
u64 vgic_read(Vcpu& v, Ipa ipa, unsigned size_bytes);
void vgic_write(Vcpu& v, Ipa ipa, unsigned size_bytes, u64 value);

// A trapped write of ICC_SGI1R_EL1 / ICC_ASGI1R_EL1 / ICC_SGI0R_EL1 (AArch64
// sysreg key, or AArch32 MCRR p15 with CRm 12 and opc1 0 / 1 / 2): sends
// the SGIs. False if the access is not one of these; a read of them (they
// are write-only) is also false, for the caller's undefined instruction.
bool vgic_sgi_sysreg(Vcpu& v, arm64::SysRegKey key, bool read, u64 value);
bool vgic_sgi_mcrr(Vcpu& v, unsigned opc1, unsigned crm, bool read, u64 value);

// The vPL011's interrupt line follows its state: after any change to it,
// with the device lock held. Returns the vCPUs to kick (after unlocking).
VcpuMask uart_irq_update(Domain& d);

} // namespace setwise::vcpu
