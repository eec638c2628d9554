// A restricted pickle reader for PyTorch state dicts: it builds plain values and never imports or calls anything.
// It is not a general unpickler: it knows only the opcodes and the handful of globals a state dict uses.
//
// Safety model: a global is checked against the allow-list the moment GLOBAL / STACK_GLOBAL names it, before any
// further byte is interpreted; anything else raises `CheckpointError.forbiddenGlobal`. "Calling" an allowed global
// (REDUCE / NEWOBJ) is interpreted here by hand (build a dict, record a tensor view), never dispatched dynamically.
// Containers live in arenas and values refer to them by index, so no value nests inside another: hostile nesting
// depth cannot overflow the stack (no recursion anywhere, not even in deinit). Text from the pickle that an error
// quotes is escaped and cut (TextSafety): a hostile module name cannot write control sequences to the terminal.

import TextSafety

/// Element types a PyTorch storage (or a safetensors tensor) can hold here.
enum DType: String, Sendable {
    case float32, float64, float16, bfloat16, int64, int32, uint8, bool

    var byteSize: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16: return 2
        case .uint8, .bool: return 1
        }
    }

    var isInteger: Bool {
        switch self {
        case .int64, .int32, .uint8, .bool: return true
        default: return false
        }
    }
}

/// The only globals a state dict needs. Everything else is refused by name.
enum TorchGlobal: Equatable {
    case orderedDict
    case rebuildTensorV2
    case rebuildParameter
    case storageType(DType)

    static func allowed(module: String, name: String) -> TorchGlobal? {
        switch (module, name) {
        case ("collections", "OrderedDict"): return .orderedDict
        case ("torch._utils", "_rebuild_tensor_v2"): return .rebuildTensorV2
        case ("torch._utils", "_rebuild_parameter"): return .rebuildParameter
        case ("torch", "FloatStorage"): return .storageType(.float32)
        case ("torch", "DoubleStorage"): return .storageType(.float64)
        case ("torch", "HalfStorage"): return .storageType(.float16)
        case ("torch", "BFloat16Storage"): return .storageType(.bfloat16)
        case ("torch", "LongStorage"): return .storageType(.int64)
        case ("torch", "IntStorage"): return .storageType(.int32)
        case ("torch", "ByteStorage"): return .storageType(.uint8)
        case ("torch", "BoolStorage"): return .storageType(.bool)
        default: return nil
        }
    }
}

/// A storage named by a persistent id: `('storage', StorageType, key, location, numel[, view_metadata])`.
struct StorageRef: Equatable {
    var key: String            // the root storage's key in the file
    var dtype: DType
    var rootNumel: Int         // elements in the root storage, as the persistent id claims
    var viewOffset: Int = 0    // legacy view_metadata: this storage starts `viewOffset` elements into the root
    var viewNumel: Int         // elements visible through this (possibly view) storage
}

/// `_rebuild_tensor_v2(storage, storage_offset, size, stride, ...)`, recorded, not executed.
struct TensorRef: Equatable {
    var storage: StorageRef
    var offset: Int            // in elements, relative to `storage`
    var shape: [Int]
    var stride: [Int]
}

/// A flat pickle value; containers are arena indices (see the file comment).
enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    case bigInt([UInt8])       // LONG1/LONG4 two's-complement bytes (little-endian) that do not fit in Int
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple(Int)
    case list(Int)
    case dict(Int)
    case global(TorchGlobal)
    case storage(StorageRef)
    case tensor(TensorRef)

    var kind: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int, .bigInt: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case .global: return "global"
        case .storage: return "storage"
        case .tensor: return "tensor"
        }
    }
}

/// A dictionary in insertion order; string keys are indexed so that re-setting a key keeps its first position.
struct PickleDict {
    var keys: [PickleValue] = []
    var values: [PickleValue] = []
    var stringIndex: [String: Int] = [:]
}

/// The result of reading one pickle: its top-level value plus the arenas its container indices point into.
struct PickleResult {
    var value: PickleValue
    var tuples: [[PickleValue]]
    var lists: [[PickleValue]]
    var dicts: [PickleDict]
    /// Every storage a persistent id named, by root key, in first-seen order.
    var storages: [StorageRef]
    /// Byte just after the STOP opcode (legacy files hold several pickles back to back).
    var end: Int
}

/// Reads exactly one pickle from `bytes[start...]`, up to and including its STOP opcode.
struct RestrictedUnpickler {
    let file: String
    let bytes: [UInt8]
    var pos: Int

    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [UInt32: PickleValue] = [:]
    private var tuples: [[PickleValue]] = []
    private var lists: [[PickleValue]] = []
    private var dicts: [PickleDict] = []
    private var storages: [StorageRef] = []
    private var storageIndex: [String: Int] = [:]
    private var opStart = 0

    init(file: String, bytes: [UInt8], start: Int) {
        self.file = file
        self.bytes = bytes
        self.pos = start
    }

    static func read(file: String, bytes: [UInt8], start: Int) throws(CheckpointError) -> PickleResult {
        var u = RestrictedUnpickler(file: file, bytes: bytes, start: start)
        let v = try u.run()
        return PickleResult(value: v, tuples: u.tuples, lists: u.lists, dicts: u.dicts, storages: u.storages, end: u.pos)
    }

    // MARK: - Byte reading

    private func malformed(_ detail: String) -> CheckpointError {
        .malformedPickle(file: file, offset: opStart, detail: detail)
    }

    private mutating func take(_ n: Int) throws(CheckpointError) -> Range<Int> {
        guard n >= 0, n <= bytes.count - pos else {
            throw .truncated(file: file, detail: "the pickle needs \(n) more bytes at byte \(pos) but the file has "
                + "\(bytes.count - pos) left")
        }
        defer { pos += n }
        return pos..<(pos + n)
    }

    private mutating func u8() throws(CheckpointError) -> UInt8 { bytes[try take(1).lowerBound] }

    private mutating func uintLE(_ n: Int) throws(CheckpointError) -> UInt64 {
        let r = try take(n)
        var v: UInt64 = 0
        for i in r.reversed() { v = v << 8 | UInt64(bytes[i]) }
        return v
    }

    private mutating func line() throws(CheckpointError) -> String {
        let start = pos
        while pos < bytes.count, bytes[pos] != 0x0A { pos += 1 }
        guard pos < bytes.count else {
            throw .truncated(file: file, detail: "a GLOBAL name at byte \(start) has no terminating newline")
        }
        let s = String(decoding: bytes[start..<pos], as: UTF8.self)
        pos += 1
        return s
    }

    private mutating func utf8(_ n: Int) throws(CheckpointError) -> String {
        let r = try take(n)
        guard let s = String(validating: bytes[r], as: UTF8.self) else { throw malformed("a string is not valid UTF-8") }
        return s
    }

    /// Python 2 `str` (SHORT_BINSTRING / BINSTRING): bytes, read as Latin-1 like `encoding='latin1'` does.
    private mutating func latin1(_ n: Int) throws(CheckpointError) -> String {
        let r = try take(n)
        return String(String.UnicodeScalarView(bytes[r].map { Unicode.Scalar($0) }))
    }

    private mutating func length(_ n: Int) throws(CheckpointError) -> Int {
        let v = try uintLE(n)
        guard v <= UInt64(bytes.count) else {
            throw .truncated(file: file, detail: "the pickle claims a \(v)-byte item at byte \(opStart), longer than "
                + "the whole file")
        }
        return Int(v)
    }

    // MARK: - Stack

    private mutating func pop() throws(CheckpointError) -> PickleValue {
        guard let v = stack.popLast() else { throw malformed("stack underflow") }
        if let m = marks.last, m > stack.count { throw malformed("an opcode reached below a MARK") }
        return v
    }

    private mutating func popMark() throws(CheckpointError) -> [PickleValue] {
        guard let m = marks.popLast() else { throw malformed("no MARK to pop to") }
        let items = Array(stack[m...])
        stack.removeSubrange(m...)
        return items
    }

    private mutating func push(_ v: PickleValue) { stack.append(v) }

    private mutating func newTuple(_ items: [PickleValue]) -> PickleValue {
        tuples.append(items)
        return .tuple(tuples.count - 1)
    }

    private mutating func newDict() -> PickleValue {
        dicts.append(PickleDict())
        return .dict(dicts.count - 1)
    }

    private mutating func setItem(_ d: Int, _ key: PickleValue, _ value: PickleValue) {
        if case .string(let s) = key {
            if let i = dicts[d].stringIndex[s] {
                dicts[d].values[i] = value
                return
            }
            dicts[d].stringIndex[s] = dicts[d].keys.count
        }
        dicts[d].keys.append(key)
        dicts[d].values.append(value)
    }

    private func int(_ v: PickleValue, _ what: String) throws(CheckpointError) -> Int {
        switch v {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        case .bigInt: throw malformed("\(what) is an integer too large for 64 bits")
        default: throw malformed("\(what) should be an int, found \(v.kind)")
        }
    }

    private func intTuple(_ v: PickleValue, _ what: String) throws(CheckpointError) -> [Int] {
        guard case .tuple(let t) = v else { throw malformed("\(what) should be a tuple, found \(v.kind)") }
        var out: [Int] = []
        out.reserveCapacity(tuples[t].count)
        for x in tuples[t] { out.append(try int(x, "an element of \(what)")) }
        return out
    }

    private func string(_ v: PickleValue, _ what: String) throws(CheckpointError) -> String {
        switch v {
        case .string(let s): return s
        case .bytes(let b): return String(decoding: b, as: UTF8.self)
        case .int(let i): return String(i)
        default: throw malformed("\(what) should be a string, found \(v.kind)")
        }
    }

    // MARK: - The allowed "calls", interpreted by hand

    private mutating func global(module: String, name: String) throws(CheckpointError) -> PickleValue {
        guard let g = TorchGlobal.allowed(module: module, name: name) else {
            throw .forbiddenGlobal(file: file, module: module, name: name)
        }
        return .global(g)
    }

    private mutating func call(_ callable: PickleValue, _ args: PickleValue, opcode: String) throws(CheckpointError) -> PickleValue {
        guard case .global(let g) = callable else { throw malformed("\(opcode) on a \(callable.kind), not a global") }
        guard case .tuple(let t) = args else { throw malformed("\(opcode) arguments are a \(args.kind), not a tuple") }
        let a = tuples[t]
        switch g {
        case .orderedDict:
            guard a.isEmpty else { throw malformed("OrderedDict is only accepted with no arguments") }
            return newDict()
        case .rebuildTensorV2:
            // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
            guard a.count == 6 || a.count == 7 else {
                throw malformed("_rebuild_tensor_v2 takes 6 or 7 arguments, got \(a.count)")
            }
            guard case .storage(let s) = a[0] else {
                throw malformed("_rebuild_tensor_v2's first argument is a \(a[0].kind), not a storage")
            }
            let offset = try int(a[1], "storage_offset")
            let shape = try intTuple(a[2], "size")
            let stride = try intTuple(a[3], "stride")
            guard shape.count == stride.count else {
                throw malformed("a tensor has \(shape.count) sizes but \(stride.count) strides")
            }
            return .tensor(TensorRef(storage: s, offset: offset, shape: shape, stride: stride))
        case .rebuildParameter:
            // (data, requires_grad, backward_hooks): a Parameter is its tensor here.
            guard a.count == 3, case .tensor = a[0] else {
                throw malformed("_rebuild_parameter expects (tensor, requires_grad, hooks)")
            }
            return a[0]
        case .storageType:
            throw malformed("a storage type is called directly, which torch.save never does")
        }
    }

    /// `('storage', StorageType, key, location, numel[, view_metadata])`
    private mutating func persistentLoad(_ pid: PickleValue) throws(CheckpointError) -> PickleValue {
        guard case .tuple(let t) = pid, let first = tuples[t].first else {
            throw malformed("a persistent id is a \(pid.kind), not a tuple")
        }
        let a = tuples[t]
        let tag = try string(first, "the persistent id's tag")
        guard tag == "storage" else {
            throw .notAStateDict(file: file, detail: "the pickle holds a '\(untrustedText(tag))' object, not only tensors")
        }
        guard a.count == 5 || a.count == 6 else {
            throw malformed("a storage persistent id has \(a.count) fields, expected 5 or 6")
        }
        guard case .global(.storageType(let dtype)) = a[1] else {
            throw malformed("a storage persistent id names a \(a[1].kind), not a storage type")
        }
        let key = try string(a[2], "a storage key")
        let numel = try int(a[4], "a storage size")
        guard numel >= 0 else { throw malformed("storage '\(untrustedText(key))' claims \(numel) elements") }
        var ref = StorageRef(key: key, dtype: dtype, rootNumel: numel, viewNumel: numel)
        if a.count == 6, case .tuple(let vt) = a[5] {
            // Legacy view_metadata: (view_key, offset, view_size), in elements of the root storage.
            let v = tuples[vt]
            guard v.count == 3 else { throw malformed("storage view metadata has \(v.count) fields, expected 3") }
            ref.viewOffset = try int(v[1], "a storage view offset")
            ref.viewNumel = try int(v[2], "a storage view size")
            guard ref.viewOffset >= 0, ref.viewNumel >= 0, ref.viewOffset <= numel, ref.viewNumel <= numel - ref.viewOffset else {
                throw .invalidTensor(file: file, tensor: "storage \(key)", detail: "its view [\(ref.viewOffset), +\(ref.viewNumel)) "
                    + "lies outside the \(numel)-element root storage")
            }
        }
        if let i = storageIndex[key] {
            guard storages[i].dtype == dtype, storages[i].rootNumel == numel else {
                throw malformed("storage '\(untrustedText(key))' is named twice with different types or sizes")
            }
        } else {
            storageIndex[key] = storages.count
            storages.append(StorageRef(key: key, dtype: dtype, rootNumel: numel, viewNumel: numel))
        }
        return .storage(ref)
    }

    // MARK: - The loop

    private mutating func run() throws(CheckpointError) -> PickleValue {
        while true {
            opStart = pos
            let op = try u8()
            switch op {
            case 0x80: // PROTO
                let p = try u8()
                guard p <= 5 else { throw malformed("pickle protocol \(p) is newer than 5") }
            case 0x95: // FRAME: a length hint only
                _ = try uintLE(8)
            case 0x2E: // STOP
                guard stack.count == 1, marks.isEmpty else {
                    throw malformed("STOP with \(stack.count) values and \(marks.count) marks on the stack")
                }
                return stack[0]
            case 0x28: // MARK
                marks.append(stack.count)
            case 0x30: // POP
                _ = try pop()
            case 0x31: // POP_MARK
                _ = try popMark()
            case 0x32: // DUP
                guard let top = stack.last else { throw malformed("DUP on an empty stack") }
                push(top)

            // Constants and numbers
            case 0x4E: push(.none) // NONE
            case 0x88: push(.bool(true)) // NEWTRUE
            case 0x89: push(.bool(false)) // NEWFALSE
            case 0x4B: push(.int(Int(try uintLE(1)))) // BININT1
            case 0x4D: push(.int(Int(try uintLE(2)))) // BININT2
            case 0x4A: push(.int(Int(Int32(truncatingIfNeeded: try uintLE(4))))) // BININT
            case 0x8A, 0x8B: // LONG1, LONG4
                let n = try length(op == 0x8A ? 1 : 4)
                let r = try take(n)
                if n == 0 {
                    push(.int(0))
                } else if n <= 8 {
                    var v: UInt64 = bytes[r.upperBound - 1] & 0x80 != 0 ? ~0 : 0  // sign-extend
                    for i in r.reversed() { v = v << 8 | UInt64(bytes[i]) }
                    push(.int(Int(Int64(bitPattern: v))))
                } else {
                    push(.bigInt(Array(bytes[r])))
                }
            case 0x47: // BINFLOAT: 8 bytes, big-endian
                let r = try take(8)
                var v: UInt64 = 0
                for i in r { v = v << 8 | UInt64(bytes[i]) }
                push(.float(Double(bitPattern: v)))

            // Strings and bytes
            case 0x8C: push(.string(try utf8(try length(1)))) // SHORT_BINUNICODE
            case 0x58: push(.string(try utf8(try length(4)))) // BINUNICODE
            case 0x8D: push(.string(try utf8(try length(8)))) // BINUNICODE8
            case 0x55: push(.string(try latin1(try length(1)))) // SHORT_BINSTRING (Python 2 str)
            case 0x54: push(.string(try latin1(try length(4)))) // BINSTRING (Python 2 str)
            case 0x43: push(.bytes(Array(bytes[try take(try length(1))]))) // SHORT_BINBYTES
            case 0x42: push(.bytes(Array(bytes[try take(try length(4))]))) // BINBYTES

            // Containers
            case 0x29: push(newTuple([])) // EMPTY_TUPLE
            case 0x5D: lists.append([]); push(.list(lists.count - 1)) // EMPTY_LIST
            case 0x7D: push(newDict()) // EMPTY_DICT
            case 0x74: push(newTuple(try popMark())) // TUPLE
            case 0x85: // TUPLE1
                let a = try pop()
                push(newTuple([a]))
            case 0x86: // TUPLE2
                let b = try pop(), a = try pop()
                push(newTuple([a, b]))
            case 0x87: // TUPLE3
                let c = try pop(), b = try pop(), a = try pop()
                push(newTuple([a, b, c]))
            case 0x61: // APPEND
                let v = try pop()
                guard case .list(let l)? = stack.last else { throw malformed("APPEND to something that is not a list") }
                lists[l].append(v)
            case 0x65: // APPENDS
                let items = try popMark()
                guard case .list(let l)? = stack.last else { throw malformed("APPENDS to something that is not a list") }
                lists[l].append(contentsOf: items)
            case 0x73: // SETITEM
                let v = try pop(), k = try pop()
                guard case .dict(let d)? = stack.last else { throw malformed("SETITEM on something that is not a dict") }
                setItem(d, k, v)
            case 0x75: // SETITEMS
                let items = try popMark()
                guard items.count % 2 == 0 else { throw malformed("SETITEMS with an odd number of items") }
                guard case .dict(let d)? = stack.last else { throw malformed("SETITEMS on something that is not a dict") }
                var i = 0
                while i < items.count { setItem(d, items[i], items[i + 1]); i += 2 }

            // Memo
            case 0x71: memo[UInt32(try uintLE(1))] = try peek() // BINPUT
            case 0x72: memo[UInt32(try uintLE(4))] = try peek() // LONG_BINPUT
            case 0x94: memo[UInt32(truncatingIfNeeded: memo.count)] = try peek() // MEMOIZE
            case 0x68, 0x6A: // BINGET, LONG_BINGET
                let i = UInt32(try uintLE(op == 0x68 ? 1 : 4))
                guard let v = memo[i] else { throw malformed("memo slot \(i) is read before it is written") }
                push(v)

            // Globals and the calls they allow
            case 0x63: // GLOBAL "module\nname\n"
                let module = try line()
                let name = try line()
                push(try global(module: module, name: name))
            case 0x93: // STACK_GLOBAL
                let nameV = try pop(), moduleV = try pop()
                guard case .string(let module) = moduleV, case .string(let name) = nameV else {
                    throw malformed("STACK_GLOBAL needs two strings")
                }
                push(try global(module: module, name: name))
            case 0x52: // REDUCE
                let args = try pop(), callable = try pop()
                push(try call(callable, args, opcode: "REDUCE"))
            case 0x81: // NEWOBJ: cls.__new__(cls, *args); only OrderedDict() makes sense here
                let args = try pop(), cls = try pop()
                guard case .global(.orderedDict) = cls else { throw malformed("NEWOBJ on something other than OrderedDict") }
                push(try call(cls, args, opcode: "NEWOBJ"))
            case 0x62: // BUILD: sets attributes (OrderedDict._metadata); the state is data we do not need
                let state = try pop()
                _ = state
                guard let target = stack.last else { throw malformed("BUILD on an empty stack") }
                switch target {
                case .dict, .tensor: break
                default: throw malformed("BUILD on a \(target.kind)")
                }
            case 0x51: // BINPERSID
                let pid = try pop()
                push(try persistentLoad(pid))

            default:
                throw .unsupportedOpcode(file: file, offset: opStart, opcode: op, name: pickleOpcodeName(op))
            }
        }
    }

    private func peek() throws(CheckpointError) -> PickleValue {
        guard let v = stack.last else { throw malformed("memo store from an empty stack") }
        return v
    }
}

/// pickletools' name of an opcode, for error messages about opcodes we refuse.
func pickleOpcodeName(_ op: UInt8) -> String { pickleOpcodeNames[op] ?? "an unknown opcode" }

/// Every opcode of pickle protocols 0-5, by byte.
let pickleOpcodeNames: [UInt8: String] = [
    0x28: "MARK", 0x2E: "STOP", 0x30: "POP", 0x31: "POP_MARK", 0x32: "DUP", 0x46: "FLOAT", 0x49: "INT",
    0x4A: "BININT", 0x4B: "BININT1", 0x4C: "LONG", 0x4D: "BININT2", 0x4E: "NONE", 0x50: "PERSID",
    0x51: "BINPERSID", 0x52: "REDUCE", 0x53: "STRING", 0x54: "BINSTRING", 0x55: "SHORT_BINSTRING",
    0x56: "UNICODE", 0x58: "BINUNICODE", 0x61: "APPEND", 0x62: "BUILD", 0x63: "GLOBAL", 0x64: "DICT",
    0x7D: "EMPTY_DICT", 0x65: "APPENDS", 0x67: "GET", 0x68: "BINGET", 0x69: "INST", 0x6A: "LONG_BINGET",
    0x6C: "LIST", 0x5D: "EMPTY_LIST", 0x6F: "OBJ", 0x70: "PUT", 0x71: "BINPUT", 0x72: "LONG_BINPUT",
    0x73: "SETITEM", 0x74: "TUPLE", 0x29: "EMPTY_TUPLE", 0x75: "SETITEMS", 0x47: "BINFLOAT",
    0x80: "PROTO", 0x81: "NEWOBJ", 0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4", 0x85: "TUPLE1", 0x86: "TUPLE2",
    0x87: "TUPLE3", 0x88: "NEWTRUE", 0x89: "NEWFALSE", 0x8A: "LONG1", 0x8B: "LONG4", 0x42: "BINBYTES",
    0x43: "SHORT_BINBYTES", 0x8C: "SHORT_BINUNICODE", 0x8D: "BINUNICODE8", 0x8E: "BINBYTES8",
    0x8F: "EMPTY_SET", 0x90: "ADDITEMS", 0x91: "FROZENSET", 0x92: "NEWOBJ_EX", 0x93: "STACK_GLOBAL",
    0x94: "MEMOIZE", 0x95: "FRAME", 0x96: "BYTEARRAY8", 0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER",
]
