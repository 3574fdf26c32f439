using System.Buffers.Binary;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// CheckIPHeader([OFFSET, keywords OFFSET, INTERFACES, BADSRC, GOODDST, CHECKSUM, VERBOSE, DETAILS]):
/// checks IP headers. Valid packets (IPv4, sane header length, IP length, checksum, legal
/// source address) get their IP header annotation and destination IP annotation set, are
/// trimmed to the IP length, and leave on output 0; invalid ones leave on output 1 if it is
/// connected, else are dropped. The first failure (every failure with VERBOSE) prints
/// "NAME: IP header check failed: REASON". Keywords: OFFSET (where the IP header starts),
/// CHECKSUM (bool, default true), BADSRC and GOODDST (address lists), INTERFACES (address
/// prefixes: their broadcast addresses, 0.0.0.0 and 255.255.255.255 are bad sources unless the
/// packet is for one of the addresses), VERBOSE, DETAILS (bool: keep per-reason counts).
/// Also accepts Click's old syntax CheckIPHeader(BADSRC2, OFFSET).
/// Handlers: drops, drop_details (with DETAILS).
/// </summary>
/// <example>InfiniteSource(DATA \&lt;45 00 00 1c 00 01 00 00 40 11 66 c6 0a 00 00 02 0a 00 00 09 04 d2 00 35 00 08 00 00&gt;, LIMIT 2, STOP true) -> c :: CheckIPHeader(DETAILS true) -> Discard; c[1] -> Discard;</example>
public class CheckIPHeader : ReasonCheckElement
{
    private static readonly string[] Reasons =
        ["tiny packet", "bad IP version", "bad IP header length", "bad IP length", "bad IP checksum", "bad source address"];
    private const int TinyPacket = 0, BadVersion = 1, BadHeaderLength = 2, BadLength = 3, BadChecksum = 4, BadSource = 5;

    private int _offset;
    private bool _checksum = true;
    private uint[] _badSrc = [];
    private uint[] _goodDst = [];

    /// <summary>Whether checksums are checked unless CHECKSUM says otherwise.</summary>
    protected virtual bool ChecksumByDefault => true;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var interfaces = a.Read<(uint[] Bad, uint[] Good)>("INTERFACES", ParseInterfaces, ([], []));
        var badsrc = a.Read<uint[]>("BADSRC", IPHeaderAccess.ParseAddressList, []);
        var gooddst = a.Read<uint[]>("GOODDST", IPHeaderAccess.ParseAddressList, []);
        var offset = a.Read("OFFSET", Args.Unsigned, 0);
        var verbose = a.Read("VERBOSE", Args.Bool, false);
        var details = a.Read("DETAILS", Args.Bool, false);
        var checksum = a.Read("CHECKSUM", Args.Bool, ChecksumByDefault);
        var rest = a.Rest();
        if (!a.Complete()) return false;

        uint[] bad = [], good = [];
        if (interfaces.Present) (bad, good) = interfaces.Value;
        if (badsrc.Present) bad = badsrc.Value;
        if (gooddst.Present) good = gooddst.Value;
        int off = offset;
        if (rest.Count == 1 && Args.ParseUnsigned(rest[0], out int single, out _))
            off = single;
        else if (rest.Count > 0)
        {
            // Old syntax: CheckIPHeader(BADSRC2 [, OFFSET]); BADSRC2 also makes 0.0.0.0 and 255.255.255.255 bad.
            if (rest.Count > 2) return errh.Error("too many arguments");
            if (!IPHeaderAccess.ParseAddressList(rest[0], out var old, out _))
                return errh.Error("BADSRC: parse error");
            bad = [.. old, 0u, 0xFFFFFFFFu];
            if (rest.Count == 2 && !Args.ParseUnsigned(rest[1], out off, out _))
                return errh.Error("OFFSET: parse error");
        }

        _offset = off;
        _badSrc = bad;
        _goodDst = good;
        _checksum = checksum;
        SetReporting(verbose, details);
        return true;
    }

    /// <summary>INTERFACES: "ADDR/PREFIX ..." gives bad sources (the broadcast addresses, 0.0.0.0, 255.255.255.255) and good destinations (the addresses).</summary>
    private static bool ParseInterfaces(string s, out (uint[] Bad, uint[] Good) value, out string err)
    {
        err = "expected list of IP address prefixes";
        value = ([], []);
        var words = ConfigText.SplitSpace(ConfigText.Unquote(s));
        var bad = new uint[words.Count + 2];
        var good = new uint[words.Count];
        for (int i = 0; i < words.Count; i++)
        {
            if (!Values.ParseIPPrefix(words[i], out uint addr, out uint mask)) return false;
            bad[i] = (addr & mask) | ~mask;
            good[i] = addr;
        }
        bad[words.Count] = 0;
        bad[words.Count + 1] = 0xFFFFFFFF;
        value = (bad, good);
        return true;
    }

    protected override int Check(Packet p)
    {
        int off = _offset;
        int plen = p.Length - off;
        if (plen < IPHeaderAccess.IPHeaderMin) return TinyPacket;
        var ip = p.Data[off..];
        if (ip[0] >> 4 != 4) return BadVersion;
        int hlen = (ip[0] & 0xF) << 2;
        if (hlen < IPHeaderAccess.IPHeaderMin) return BadHeaderLength;
        int len = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
        if (len > plen || len < hlen) return BadLength;
        if (_checksum && InternetChecksum.Compute(ip[..hlen]) != 0) return BadChecksum;
        uint dst = BinaryPrimitives.ReadUInt32BigEndian(ip[16..]);
        if (_badSrc.Length > 0
            && Array.IndexOf(_badSrc, BinaryPrimitives.ReadUInt32BigEndian(ip[12..])) >= 0
            && Array.IndexOf(_goodDst, dst) < 0)
            return BadSource;
        p.SetNetworkHeader(off, hlen);
        if (plen > len) p.Take(plen - len);
        p.DstIPAnno = dst;
        return -1;
    }

    protected override string[] ReasonTexts => Reasons;
    protected override string FailurePrefix => $"{Name}: IP header check failed: ";
}
