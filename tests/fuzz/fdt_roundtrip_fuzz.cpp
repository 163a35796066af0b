// libFuzzer target for core/fdt_writer: the input is decoded into a
// sequence of writer calls, which drive the writer twice -- into a roomy
// buffer and into a small one of a size the input picks, fenced by guard
// bytes -- with a model of the writer's rules (fdt_writer.hpp) alongside.
// Invariants, each a trap when broken:
//   - the roomy run ends with exactly the status the model predicts;
//   - the small run ends the same or with no_memory, writes nothing
//     outside its buffer, and when it succeeds its blob is byte for byte
//     the roomy one;
//   - a finished blob opens with the reader (core/fdt), and its tokens,
//     property lookups by name, memory reservations and header say what
//     the calls said.
//
// Input: bytes 0-1 the small buffer's size (little endian, mod kMaxSmall)
// and, in bit 15, the mode; byte 2 boot_cpuid_phys; then operations: an
// opcode byte and its operands (see decode()). In the strict mode every
// call is made as decoded, so nearly every input ends in an error; in the
// lenient mode the calls the model rejects are dropped and the open nodes
// closed, so nearly every input ends in a blob to check.
#include "core/fdt.hpp"
#include "core/fdt_writer.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using namespace setwise;
using fdt::Blob;
using fdt::Node;
using fdt::Writer;

void check(bool invariant) {
    if (!invariant) __builtin_trap();
}

constexpr usize kMaxInput = 8192;
constexpr usize kMaxSmall = 4096;
// An operation adds at most 16 structure bytes per input byte it consumes
// plus its name to the strings block, so the roomy run never runs out.
constexpr usize kRoomy = 32 * kMaxInput + 4096;
constexpr usize kGuard = 64;
constexpr u8 kGuardByte = 0xc3;

class Input {
public:
    Input(const u8* data, usize size) : data_(data), size_(size) {}
    bool empty() const { return pos_ >= size_; }
    u8 byte() { return pos_ < size_ ? data_[pos_++] : 0; }
    u32 word() {
        u32 v = 0;
        for (int i = 0; i < 4; ++i) v = v << 8 | byte();
        return v;
    }
    u64 dword() { return u64{word()} << 32 | word(); }

private:
    const u8* data_;
    usize size_;
    usize pos_ = 0;
};

enum class Op : u8 {
    begin_node,
    end_node,
    property,
    property_u32,
    property_u64,
    property_cells,
    property_string,
    property_string_list,
    property_empty,
    property_reg,
    add_memreserve,
    begin_root,
    count,
};

struct Call {
    Op op = Op::end_node;
    std::string name;
    std::vector<u8> bytes;            // property
    u64 number = 0;                   // u32, u64; memreserve address
    u64 size = 0;                     // memreserve size
    std::vector<u32> cells;           // property_cells
    std::vector<std::string> strings; // property_string (one), property_string_list
    u32 address_cells = 0;
    u32 size_cells = 0;
    std::vector<std::pair<u64, u64>> reg;
};

// Small alphabets so that names collide (duplicates) and now and then break
// the rules: the last characters of each are not allowed.
constexpr char kNodeChars[] = {'a', 'b', '1', '@', ',', '.', '_', '+', '-', 'Z', '#', '/', ' ', '\0'};
constexpr char kPropChars[] = {'a', 'b', '1', ',', '.', '_', '+', '-', '#', '?', '@', '/', ' ', '\0'};

std::string name_from(Input& in, const char* alphabet, usize alphabet_size) {
    std::string s;
    const usize len = in.byte() % 6;
    for (usize i = 0; i < len; ++i) s.push_back(alphabet[in.byte() % alphabet_size]);
    return s;
}

std::string text_from(Input& in) {
    std::string s;
    const usize len = in.byte() % 8;
    for (usize i = 0; i < len; ++i) {
        const u8 b = in.byte();
        s.push_back(b % 32 == 0 ? '\0' : static_cast<char>('a' + b % 26));
    }
    return s;
}

std::vector<Call> decode(Input& in) {
    std::vector<Call> calls;
    while (!in.empty()) {
        Call c;
        c.op = static_cast<Op>(in.byte() % static_cast<u8>(Op::count));
        switch (c.op) {
        case Op::begin_node:
            c.name = name_from(in, kNodeChars, sizeof kNodeChars);
            break;
        case Op::end_node:
        case Op::begin_root:
            break;
        case Op::property: {
            c.name = name_from(in, kPropChars, sizeof kPropChars);
            const usize len = in.byte() % 24;
            for (usize i = 0; i < len; ++i) c.bytes.push_back(in.byte());
            break;
        }
        case Op::property_u32:
            c.name = name_from(in, kPropChars, sizeof kPropChars);
            c.number = in.word();
            break;
        case Op::property_u64:
            c.name = name_from(in, kPropChars, sizeof kPropChars);
            c.number = in.dword();
            break;
        case Op::property_cells: {
            c.name = name_from(in, kPropChars, sizeof kPropChars);
            const usize n = in.byte() % 5;
            for (usize i = 0; i < n; ++i) c.cells.push_back(in.word());
            break;
        }
        case Op::property_string:
            c.name = name_from(in, kPropChars, sizeof kPropChars);
            c.strings.push_back(text_from(in));
            break;
        case Op::property_string_list: {
            c.name = name_from(in, kPropChars, sizeof kPropChars);
            const usize n = in.byte() % 4;
            for (usize i = 0; i < n; ++i) c.strings.push_back(text_from(in));
            break;
        }
        case Op::property_empty:
            c.name = name_from(in, kPropChars, sizeof kPropChars);
            break;
        case Op::property_reg: {
            const u8 cells = in.byte();
            c.address_cells = cells % 4;    // 0 and 3 are invalid
            c.size_cells = (cells >> 2) % 4; // 3 is invalid
            const usize n = in.byte() % 3;
            for (usize i = 0; i < n; ++i) {
                // Mostly values that fit one cell.
                const u8 shape = in.byte();
                const u64 address = shape & 1 ? in.dword() : in.word();
                const u64 size = shape & 2 ? in.dword() : shape & 4 ? 0 : in.word();
                c.reg.emplace_back(address, size);
            }
            break;
        }
        case Op::add_memreserve:
            c.number = in.byte() & 1 ? in.dword() : 0;
            c.size = in.byte() & 1 ? in.dword() : 0;
            break;
        case Op::count:
            break;
        }
        calls.push_back(std::move(c));
    }
    return calls;
}

void replay(Writer& w, const std::vector<Call>& calls) {
    for (const Call& c : calls) {
        switch (c.op) {
        case Op::begin_node: w.begin_node(c.name); break;
        case Op::begin_root: w.begin_node(""); break;
        case Op::end_node: w.end_node(); break;
        case Op::property: w.property(c.name, c.bytes); break;
        case Op::property_u32: w.property_u32(c.name, static_cast<u32>(c.number)); break;
        case Op::property_u64: w.property_u64(c.name, c.number); break;
        case Op::property_cells: w.property_cells(c.name, c.cells); break;
        case Op::property_string: w.property_string(c.name, c.strings[0]); break;
        case Op::property_string_list: {
            std::vector<std::string_view> views(c.strings.begin(), c.strings.end());
            w.property_string_list(c.name, views);
            break;
        }
        case Op::property_empty: w.property_empty(c.name); break;
        case Op::property_reg: w.property_reg(c.address_cells, c.size_cells, c.reg); break;
        case Op::add_memreserve: w.add_memreserve(c.number, c.size); break;
        case Op::count: break;
        }
    }
}

// ---- The model ----------------------------------------------------------

bool in_set(char c, std::string_view set) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           set.find(c) != std::string_view::npos;
}

// §2.2.1 table 2.1 and §2.2.4.1 table 2.2, written independently of the
// writer's tables.
bool node_name_ok(const std::string& name) {
    if (name.empty() || name[0] == '@') return false;
    usize ats = 0;
    for (char c : name) {
        if (c == '@') ++ats;
        else if (!in_set(c, ",._+-")) return false;
    }
    return ats <= 1;
}

bool property_name_ok(const std::string& name) {
    if (name.empty()) return false;
    for (char c : name) {
        if (!in_set(c, ",._+?#-")) return false;
    }
    return true;
}

void put32(std::vector<u8>& out, u32 v) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<u8>(v >> s));
}

void put64(std::vector<u8>& out, u64 v) {
    put32(out, static_cast<u32>(v >> 32));
    put32(out, static_cast<u32>(v));
}

struct Event {
    fdt::TokenKind kind;
    std::string name;
    std::vector<u8> value;
};

class Model {
public:
    void apply(const Call& c) {
        if (status_ != Status::ok) return;
        switch (c.op) {
        case Op::add_memreserve:
            if (phase_ != Phase::memreserve || (c.number == 0 && c.size == 0)) return fail(Status::invalid_argument);
            memreserve_.push_back({c.number, c.size});
            return;
        case Op::begin_root:
            return begin("");
        case Op::begin_node:
            return begin(c.name);
        case Op::end_node:
            if (phase_ != Phase::structure) return fail(Status::invalid_argument);
            stack_.pop_back();
            events_.push_back({fdt::TokenKind::end_node, {}, {}});
            if (stack_.empty()) phase_ = Phase::closed;
            else stack_.back().properties_allowed = false;
            return;
        case Op::property:
            return property(c.name, c.bytes);
        case Op::property_u32: {
            std::vector<u8> v;
            put32(v, static_cast<u32>(c.number));
            return property(c.name, v);
        }
        case Op::property_u64: {
            std::vector<u8> v;
            put64(v, c.number);
            return property(c.name, v);
        }
        case Op::property_cells: {
            std::vector<u8> v;
            for (u32 cell : c.cells) put32(v, cell);
            return property(c.name, v);
        }
        case Op::property_string:
        case Op::property_string_list: {
            std::vector<u8> v;
            for (const std::string& s : c.strings) {
                if (s.find('\0') != std::string::npos) return fail(Status::invalid_argument);
                v.insert(v.end(), s.begin(), s.end());
                v.push_back(0);
            }
            return property(c.name, v);
        }
        case Op::property_empty:
            return property(c.name, {});
        case Op::property_reg: {
            if (c.address_cells < 1 || c.address_cells > 2 || c.size_cells > 2) return fail(Status::invalid_argument);
            std::vector<u8> v;
            for (const auto& [address, size] : c.reg) {
                if (c.address_cells == 1 && address >> 32 != 0) return fail(Status::invalid_argument);
                if (c.size_cells == 1 && size >> 32 != 0) return fail(Status::invalid_argument);
                if (c.size_cells == 0 && size != 0) return fail(Status::invalid_argument);
                if (c.address_cells == 2) put64(v, address);
                else put32(v, static_cast<u32>(address));
                if (c.size_cells == 2) put64(v, size);
                else if (c.size_cells == 1) put32(v, static_cast<u32>(size));
            }
            return property("reg", v);
        }
        case Op::count:
            return;
        }
    }

    Status finish() {
        if (status_ == Status::ok && phase_ != Phase::closed) status_ = Status::invalid_argument;
        return status_;
    }

    // A rejected call changes nothing but the status (every rule is
    // checked before the state changes), so forgetting the error undoes it.
    Status status() const { return status_; }
    void forget_error() { status_ = Status::ok; }
    usize open_nodes() const { return stack_.size(); }
    bool has_root() const { return phase_ != Phase::memreserve; }

    const std::vector<Event>& events() const { return events_; }
    const std::vector<fdt::Region>& memreserve() const { return memreserve_; }

private:
    enum class Phase { memreserve, structure, closed };
    struct OpenNode {
        std::vector<std::string> children;
        std::vector<std::string> properties;
        bool properties_allowed = true;
    };

    void fail(Status s) { status_ = s; }

    void begin(const std::string& name) {
        switch (phase_) {
        case Phase::memreserve:
            if (!name.empty()) return fail(Status::invalid_argument);
            phase_ = Phase::structure;
            break;
        case Phase::structure: {
            if (!node_name_ok(name)) return fail(Status::invalid_argument);
            if (stack_.size() >= fdt::kMaxDepth) return fail(Status::out_of_range);
            auto& siblings = stack_.back().children;
            for (const std::string& s : siblings) {
                if (s == name) return fail(Status::exists);
            }
            siblings.push_back(name);
            stack_.back().properties_allowed = false;
            break;
        }
        case Phase::closed:
            return fail(Status::invalid_argument);
        }
        stack_.push_back({});
        events_.push_back({fdt::TokenKind::begin_node, name, {}});
    }

    void property(const std::string& name, const std::vector<u8>& value) {
        if (phase_ != Phase::structure || !stack_.back().properties_allowed || !property_name_ok(name)) {
            return fail(Status::invalid_argument);
        }
        auto& props = stack_.back().properties;
        for (const std::string& p : props) {
            if (p == name) return fail(Status::exists);
        }
        props.push_back(name);
        events_.push_back({fdt::TokenKind::prop, name, value});
    }

    Phase phase_ = Phase::memreserve;
    std::vector<OpenNode> stack_;
    std::vector<Event> events_;
    std::vector<fdt::Region> memreserve_;
    Status status_ = Status::ok;
};

// ---- Checking a finished blob -------------------------------------------

bool same_bytes(std::span<const u8> a, const std::vector<u8>& b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

void check_blob(std::span<const u8> bytes, const Model& model, u32 boot_cpuid) {
    auto opened = Blob::open(bytes);
    check(opened.ok());
    const Blob& blob = opened.value();
    const fdt::Header& h = blob.header();
    check(h.version == 17 && h.last_comp_version == 16);
    check(h.boot_cpuid_phys == boot_cpuid);
    check(h.totalsize == bytes.size());

    std::vector<fdt::Region> reserved;
    check(blob.for_each_memreserve([&](fdt::Region r) { reserved.push_back(r); }).ok());
    check(reserved == model.memreserve());

    // Token by token: exactly the calls' nodes and properties, no NOPs.
    const std::vector<Event>& events = model.events();
    usize i = 0;
    u32 off = 0;
    for (;;) {
        auto t = blob.token_at(off);
        check(t.ok());
        const fdt::Token& token = t.value();
        if (token.kind == fdt::TokenKind::end) break;
        check(i < events.size());
        const Event& e = events[i++];
        check(token.kind == e.kind);
        if (e.kind != fdt::TokenKind::end_node) check(token.name == e.name);
        if (e.kind == fdt::TokenKind::prop) check(same_bytes(token.value, e.value));
        off = token.next;
    }
    check(i == events.size());
    check(off + 4 == blob.struct_block().size());

    // Lookups by name find each property (names are unique per node, so
    // the deduplicated name offsets must all be right).
    std::vector<Node> nodes;
    check(blob.for_each_node([&](Node n, u32) { nodes.push_back(n); }).ok());
    usize node_index = 0;
    for (const Event& e : events) {
        if (e.kind == fdt::TokenKind::begin_node) {
            check(node_index < nodes.size());
            auto name = blob.node_name(nodes[node_index]);
            check(name.ok() && name.value() == e.name);
            ++node_index;
        } else if (e.kind == fdt::TokenKind::prop) {
            auto p = blob.property(nodes[node_index - 1], e.name);
            check(p.ok() && same_bytes(p.value().value, e.value));
        }
    }
    check(node_index == nodes.size());
}

std::array<u8, kRoomy> g_roomy;
std::array<u8, kMaxSmall + 2 * kGuard> g_small;

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > kMaxInput) return 0;
    Input in(data, size);
    const usize size_and_mode = usize{in.byte()} | usize{in.byte()} << 8;
    const usize small_size = (size_and_mode & 0x7fff) % kMaxSmall;
    const bool lenient = (size_and_mode & 0x8000) != 0;
    const u32 boot_cpuid = in.byte();
    std::vector<Call> calls = decode(in);

    Model model;
    if (lenient) {
        std::vector<Call> accepted;
        for (Call& c : calls) {
            model.apply(c);
            if (model.status() == Status::ok) {
                accepted.push_back(std::move(c));
            } else {
                model.forget_error();
            }
        }
        Call close;
        if (!model.has_root()) {
            close.op = Op::begin_root;
            model.apply(close);
            accepted.push_back(close);
        }
        close.op = Op::end_node;
        while (model.open_nodes() != 0) {
            model.apply(close);
            accepted.push_back(close);
        }
        calls = std::move(accepted);
    } else {
        for (const Call& c : calls) model.apply(c);
    }
    const Status expected = model.finish();
    check(!lenient || expected == Status::ok);

    Writer roomy(g_roomy, boot_cpuid);
    replay(roomy, calls);
    auto roomy_blob = roomy.finish();
    check(roomy_blob.status() == expected);
    if (roomy_blob.ok()) check_blob(roomy_blob.value(), model, boot_cpuid);

    std::memset(g_small.data(), kGuardByte, g_small.size());
    Writer small(std::span<u8>(g_small).subspan(kGuard, small_size), boot_cpuid);
    replay(small, calls);
    auto small_blob = small.finish();
    for (usize i = 0; i < kGuard; ++i) check(g_small[i] == kGuardByte);
    for (usize i = kGuard + small_size; i < g_small.size(); ++i) check(g_small[i] == kGuardByte);
    check(small_blob.status() == expected || small_blob.status() == Status::no_memory);
    if (small_blob.ok()) {
        const std::vector<u8> copy(roomy_blob.value().begin(), roomy_blob.value().end());
        check(same_bytes(small_blob.value(), copy));
    }
    return 0;
}
