using System.Buffers.Binary;
using System.Diagnostics;
using ClickOS.Core;
using ClickOS.IO.Linux;

namespace ClickOS.IO.Tap;

/// <summary>
/// A Linux TUN or TAP interface opened through /dev/net/tun (no packet-information prefix),
/// given an address, netmask, MTU and (TAP) Ethernet address with ioctls, and brought up.
/// The interface disappears when the descriptor closes.
/// </summary>
internal sealed unsafe class TunDevice : IDisposable
{
    public int Fd { get; private set; } = -1;
    public string Name { get; private set; } = "";

    public static TunDevice? Open(bool tap, string requestedName, uint addr, uint mask, int mtu, byte[]? ether, uint gateway, ErrorHandler errh)
    {
        var t = new TunDevice();
        if (!t.Setup(tap, requestedName, addr, mask, mtu, ether, gateway, errh)) { t.Dispose(); return null; }
        return t;
    }

    private bool Setup(bool tap, string requested, uint addr, uint mask, int mtu, byte[]? ether, uint gateway, ErrorHandler errh)
    {
        Fd = Native.open("/dev/net/tun", Native.O_RDWR | Native.O_NONBLOCK | Native.O_CLOEXEC);
        if (Fd < 0)
        {
            int e = Native.Errno;
            return errh.Error($"could not allocate a /dev/net/tun device: {Native.StrError(e)}{Native.PermissionHint(e, "CAP_NET_ADMIN")}");
        }
        byte* ifr = stackalloc byte[Native.IfReqSize];
        var s = new Span<byte>(ifr, Native.IfReqSize);
        if (!Native.PutIfName(s, requested)) return errh.Error($"DEVNAME '{requested}' is not a valid interface name");
        *(short*)(ifr + 16) = (short)((tap ? Native.IFF_TAP : Native.IFF_TUN) | Native.IFF_NO_PI);
        if (Native.ioctl(Fd, Native.TUNSETIFF, ifr) < 0)
        {
            int e = Native.Errno;
            return errh.Error($"TUNSETIFF: {Native.StrError(e)}{Native.PermissionHint(e, "CAP_NET_ADMIN")}");
        }
        Name = Native.GetIfName(s);
        int sock = Native.socket(Native.AF_INET, Native.SOCK_DGRAM | Native.SOCK_CLOEXEC, 0);
        if (sock < 0) return errh.Error($"socket: {Native.LastError()}");
        try
        {
            if (tap && ether != null)
            {
                Native.PutIfName(s, Name);
                *(ushort*)(ifr + 16) = Native.ARPHRD_ETHER;
                ether.CopyTo(s[18..]);
                if (Native.ioctl(sock, Native.SIOCSIFHWADDR, ifr) < 0) return errh.Error($"{Name}: SIOCSIFHWADDR: {Native.LastError()}");
            }
            Native.PutIfName(s, Name);
            *(int*)(ifr + 16) = mtu;
            if (Native.ioctl(sock, Native.SIOCSIFMTU, ifr) < 0) return errh.Error($"{Name}: SIOCSIFMTU: {Native.LastError()}");
            // Address 0: a bare link (a switch port), no IP configuration.
            if (addr != 0 && !SetInetAddr(sock, ifr, s, Native.SIOCSIFADDR, addr)) return errh.Error($"{Name}: SIOCSIFADDR: {Native.LastError()}");
            if (addr != 0 && !SetInetAddr(sock, ifr, s, Native.SIOCSIFNETMASK, mask)) return errh.Error($"{Name}: SIOCSIFNETMASK: {Native.LastError()}");
            Native.PutIfName(s, Name);
            if (Native.ioctl(sock, Native.SIOCGIFFLAGS, ifr) < 0) return errh.Error($"{Name}: SIOCGIFFLAGS: {Native.LastError()}");
            *(short*)(ifr + 16) |= Native.IFF_UP | Native.IFF_RUNNING;
            if (Native.ioctl(sock, Native.SIOCSIFFLAGS, ifr) < 0) return errh.Error($"{Name}: SIOCSIFFLAGS: {Native.LastError()}");
        }
        finally
        {
            Native.close(sock);
        }
        if (gateway != 0 && !AddDefaultRoute(gateway, errh)) return false;
        return true;
    }

    private bool SetInetAddr(int sock, byte* ifr, Span<byte> s, uint request, uint addr)
    {
        Native.PutIfName(s, Name);
        *(ushort*)(ifr + 16) = Native.AF_INET;
        BinaryPrimitives.WriteUInt32BigEndian(s[20..], addr);
        return Native.ioctl(sock, request, ifr) >= 0;
    }

    // Routes need struct rtentry; the ip tool is simpler and this runs once at start-up.
    private bool AddDefaultRoute(uint gw, ErrorHandler errh)
    {
        string g = $"{gw >> 24}.{(gw >> 16) & 255}.{(gw >> 8) & 255}.{gw & 255}";
        try
        {
            var psi = new ProcessStartInfo("ip") { RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { "route", "replace", "default", "via", g, "dev", Name }) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0 || errh.Error($"{Name}: could not add default route via {g}: {err.Trim()}");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return errh.Error($"{Name}: could not run ip to add the default route: {ex.Message}");
        }
    }

    /// <summary>Reads one packet; returns its length, 0 when none is waiting, or -errno.</summary>
    public int Read(Span<byte> buf)
    {
        fixed (byte* b = buf)
        {
            nint r = Native.read(Fd, b, (nuint)buf.Length);
            if (r >= 0) return (int)r;
            int e = Native.Errno;
            return e is Native.EAGAIN or Native.EINTR ? 0 : -e;
        }
    }

    /// <summary>Writes one packet; returns 0 or the errno.</summary>
    public int Write(ReadOnlySpan<byte> data)
    {
        fixed (byte* b = data)
        {
            nint r = Native.write(Fd, b, (nuint)data.Length);
            return r < 0 ? Native.Errno : 0;
        }
    }

    public void Dispose()
    {
        if (Fd >= 0) { Native.close(Fd); Fd = -1; }
    }
}
