using System.Buffers.Binary;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace ClickOS.IO.ShmRing;

/// <summary>
/// A virtual port's shared memory: one file (on /dev/shm, a tmpfs) holding a header page and
/// two <see cref="SpscRing"/>s: <see cref="ToSwitch"/> (the instance produces, the switch
/// consumes) and <see cref="ToInstance"/> (the other way). Next to it, FIFOs for waking:
/// <c>NAME.bell</c> (the instance sleeps on it), <c>NAME.space</c> (the instance waits for room
/// in ToSwitch), and the switch's own bell, whose path the header names. The host creates the
/// files and keeps its own copy of the geometry; the instance reads the header.
/// </summary>
public sealed unsafe class VifRegion : IDisposable
{
    public const ulong Magic = 0x31304649564b4c43; // "CLKVIF01"
    private const int HeaderBytes = 4096, PathOffset = 64, MaxPath = 1024;
    private const int FlagShut = 1;

    private byte* _map;
    private readonly long _length;
    private readonly List<Doorbell> _bells = [];

    public string Path { get; }
    public int Slots { get; }
    public int SlotSize { get; }
    public SpscRing ToSwitch { get; }
    public SpscRing ToInstance { get; }
    /// <summary>The instance's wake-up: frames in ToInstance, or (on the instance side) room in ToSwitch.</summary>
    public Doorbell InstanceBell { get; }
    public Doorbell SpaceBell { get; }
    public Doorbell SwitchBell { get; }

    private VifRegion(string path, byte* map, long length, int slots, int slotSize, Doorbell instanceBell, Doorbell spaceBell, Doorbell switchBell)
    {
        Path = path;
        _map = map;
        _length = length;
        Slots = slots;
        SlotSize = slotSize;
        InstanceBell = instanceBell;
        SpaceBell = spaceBell;
        SwitchBell = switchBell;
        _bells.AddRange([instanceBell, spaceBell, switchBell]);
        long ring = SpscRing.Bytes(slots, slotSize);
        ToSwitch = new SpscRing(map + HeaderBytes, slots, slotSize, switchBell, spaceBell);
        ToInstance = new SpscRing(map + HeaderBytes + ring, slots, slotSize, instanceBell, null);
    }

    public static long FileBytes(int slots, int slotSize) => HeaderBytes + 2 * SpscRing.Bytes(slots, slotSize);

    /// <summary>
    /// The host's side: makes the region file and its FIFOs (mode 0600), or, after a host
    /// restart, takes over an existing region of the same geometry so that an instance still
    /// running on it keeps its port (the rings resume at their indices, which are checked).
    /// Null and an error if it cannot.
    /// </summary>
    public static VifRegion? Create(string path, int slots, int slotSize, Doorbell switchBell, out string? error)
    {
        long len = FileBytes(slots, slotSize);
        byte* map;
        if (File.Exists(path) && new FileInfo(path).Length == len && Reuse(path, slots, slotSize, switchBell, out error) is { } kept)
            return kept;
        try
        {
            if (File.Exists(path)) File.Delete(path);
            var opts = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.ReadWrite, Share = FileShare.ReadWrite };
            if (!OperatingSystem.IsWindows()) opts.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using var fs = new FileStream(path, opts);
            fs.SetLength(len);
            map = Map(fs.SafeFileHandle, len, out error);
            if (map == null) return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error = $"{path}: {ex.Message}";
            return null;
        }
        var hdr = new Span<byte>(map, HeaderBytes);
        BinaryPrimitives.WriteUInt64LittleEndian(hdr, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(hdr[8..], 1);
        BinaryPrimitives.WriteInt32LittleEndian(hdr[12..], slots);
        BinaryPrimitives.WriteInt32LittleEndian(hdr[16..], slotSize);
        int n = Encoding.UTF8.GetBytes(switchBell.Path, hdr.Slice(PathOffset, MaxPath - 1));
        hdr[PathOffset + n] = 0;
        return WithBells(path, map, len, slots, slotSize, switchBell.Path, create: true, out error);
    }

    /// <summary>Opens (or, for a new port, makes) the port's two FIFOs and the switch's, and wraps the mapping; on failure unmaps it.</summary>
    private static VifRegion? WithBells(string path, byte* map, long len, int slots, int slotSize, string switchBell, bool create, out string? error)
    {
        var ib = create ? Doorbell.Create(path + ".bell", out error) : Doorbell.Open(path + ".bell", out error);
        var sb = ib == null ? null : create ? Doorbell.Create(path + ".space", out error) : Doorbell.Open(path + ".space", out error);
        var sw = sb == null ? null : Doorbell.Open(switchBell, out error);
        if (ib == null || sb == null || sw == null)
        {
            ib?.Dispose();
            sb?.Dispose();
            Linux.Native.munmap(map, (nuint)len);
            return null;
        }
        return new VifRegion(path, map, len, slots, slotSize, ib, sb, sw);
    }

    private static VifRegion? Reuse(string path, int slots, int slotSize, Doorbell switchBell, out string? error)
    {
        var r = Open(path, out error);
        if (r == null) return null;
        if (r.Slots != slots || r.SlotSize != slotSize || r.SwitchBell.Path != switchBell.Path || r.ToSwitch.Corrupt || r.ToInstance.Corrupt)
        {
            r.Dispose();
            return null;
        }
        r.Shut = false;
        return r;
    }

    /// <summary>The instance's side: maps an existing region and checks its header.</summary>
    public static VifRegion? Open(string path, out string? error)
    {
        byte* map;
        long len;
        try
        {
            using var h = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
            len = RandomAccess.GetLength(h);
            if (len < HeaderBytes) { error = $"{path}: not a virtual port (too short)"; return null; }
            map = Map(h, len, out error);
            if (map == null) return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error = $"{path}: {ex.Message}";
            return null;
        }
        var hdr = new ReadOnlySpan<byte>(map, HeaderBytes);
        int slots = BinaryPrimitives.ReadInt32LittleEndian(hdr[12..]), slotSize = BinaryPrimitives.ReadInt32LittleEndian(hdr[16..]);
        int end = hdr.Slice(PathOffset, MaxPath).IndexOf((byte)0);
        if (BinaryPrimitives.ReadUInt64LittleEndian(hdr) != Magic || BinaryPrimitives.ReadInt32LittleEndian(hdr[8..]) != 1
            || slots < 2 || (slots & (slots - 1)) != 0 || slotSize < 64 || slotSize % 64 != 0 || slotSize > 65536
            || FileBytes(slots, slotSize) != len || end <= 0)
        {
            Linux.Native.munmap(map, (nuint)len);
            error = $"{path}: not a virtual port (bad header)";
            return null;
        }
        string bell = Encoding.UTF8.GetString(hdr.Slice(PathOffset, end));
        return WithBells(path, map, len, slots, slotSize, bell, create: false, out error);
    }

    private static byte* Map(SafeFileHandle h, long len, out string? error)
    {
        const int PROT_READ = 1, PROT_WRITE = 2, MAP_SHARED = 1;
        void* p = Linux.Native.mmap(null, (nuint)len, PROT_READ | PROT_WRITE, MAP_SHARED, (int)h.DangerousGetHandle(), 0);
        if (p == (void*)-1)
        {
            error = $"mmap: {Linux.Native.LastError()}";
            return null;
        }
        error = null;
        return (byte*)p;
    }

    /// <summary>Set by the host when it stops trusting the port; an instance sees its port go dead.</summary>
    public bool Shut
    {
        get => (Volatile.Read(ref *(int*)(_map + 20)) & FlagShut) != 0;
        set => Volatile.Write(ref *(int*)(_map + 20), value ? FlagShut : 0);
    }

    public void Dispose()
    {
        if (_map == null) return;
        Linux.Native.munmap(_map, (nuint)_length);
        _map = null;
        foreach (var b in _bells) b.Dispose();
    }
}
