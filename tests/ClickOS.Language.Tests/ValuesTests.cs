namespace ClickOS.Language.Tests;

public class ValuesTests
{
    [Theory]
    [InlineData("0", 0L)]
    [InlineData("42", 42L)]
    [InlineData("-17", -17L)]
    [InlineData("+5", 5L)]
    [InlineData("0x1F", 31L)]
    [InlineData("0XfF", 255L)]
    [InlineData("017", 15L)]
    [InlineData("-010", -8L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    [InlineData("-9223372036854775808", long.MinValue)]
    public void ParseInt64_accepts_decimal_hex_octal(string s, long expected)
    {
        Assert.True(Values.ParseInt64(s, out long v));
        Assert.Equal(expected, v);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-")]
    [InlineData("08")]
    [InlineData("0x")]
    [InlineData("0xG1")]
    [InlineData("1.5")]
    [InlineData("12abc")]
    [InlineData(" 1")]
    [InlineData("9223372036854775808")]
    public void ParseInt64_rejects_bad_input(string s)
    {
        Assert.False(Values.ParseInt64(s, out _));
    }

    [Fact]
    public void ParseUInt64_accepts_full_range_and_rejects_negative()
    {
        Assert.True(Values.ParseUInt64("18446744073709551615", out ulong max));
        Assert.Equal(ulong.MaxValue, max);
        Assert.True(Values.ParseUInt64("0xFFFFFFFFFFFFFFFF", out ulong hex));
        Assert.Equal(ulong.MaxValue, hex);
        Assert.True(Values.ParseUInt64("010", out ulong oct));
        Assert.Equal(8UL, oct);
        Assert.False(Values.ParseUInt64("-1", out _));
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("false", false)]
    [InlineData("yes", true)]
    [InlineData("no", false)]
    [InlineData("1", true)]
    [InlineData("0", false)]
    [InlineData("t", true)]
    [InlineData("f", false)]
    public void ParseBool_accepts_click_spellings(string s, bool expected)
    {
        Assert.True(Values.ParseBool(s, out bool v));
        Assert.Equal(expected, v);
    }

    [Theory]
    [InlineData("")]
    [InlineData("2")]
    [InlineData("maybe")]
    public void ParseBool_rejects_other_words(string s)
    {
        Assert.False(Values.ParseBool(s, out _));
    }

    [Theory]
    [InlineData("1", 1.0)]
    [InlineData("1.5s", 1.5)]
    [InlineData("2sec", 2.0)]
    [InlineData("10ms", 0.01)]
    [InlineData("250msec", 0.25)]
    [InlineData("100us", 1e-4)]
    [InlineData("5ns", 5e-9)]
    [InlineData("2min", 120.0)]
    [InlineData("3h", 10800.0)]
    [InlineData("1e-3", 0.001)]
    public void ParseSeconds_with_units(string s, double expected)
    {
        Assert.True(Values.ParseSeconds(s, out double v));
        Assert.Equal(expected, v, 12);
    }

    [Theory]
    [InlineData("")]
    [InlineData("s")]
    [InlineData("5 parsecs")]
    [InlineData("abc")]
    public void ParseSeconds_rejects_bad_input(string s)
    {
        Assert.False(Values.ParseSeconds(s, out _));
    }

    [Theory]
    [InlineData("10Mbps", 1.25e6)]
    [InlineData("8kbps", 1000.0)]
    [InlineData("1.5GBps", 1.5e9)]
    [InlineData("100Bps", 100.0)]
    [InlineData("80bps", 10.0)]
    [InlineData("100", 100.0)]
    [InlineData("100B/s", 100.0)]
    [InlineData("8kb/s", 1000.0)]
    [InlineData("2KBps", 2000.0)]
    public void ParseBandwidth_returns_bytes_per_second(string s, double expected)
    {
        Assert.True(Values.ParseBandwidth(s, out double v));
        Assert.Equal(expected, v, 6);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Mbps")]
    [InlineData("5Xbps")]
    [InlineData("5Mfoo")]
    public void ParseBandwidth_rejects_bad_units(string s)
    {
        Assert.False(Values.ParseBandwidth(s, out _));
    }

    [Theory]
    [InlineData(40000.0, "320kbps")]
    [InlineData(125000.0, "1Mbps")]
    [InlineData(2.5e8, "2Gbps")]
    [InlineData(1e9, "1000MBps")]
    [InlineData(1.0, "0.008kbps")]
    public void UnparseBandwidth_prints_like_click(double bytesPerSec, string expected)
    {
        Assert.Equal(expected, Values.UnparseBandwidth(bytesPerSec));
        Assert.True(Values.ParseBandwidth(expected, out double back));
        Assert.Equal(bytesPerSec, back, 6);
    }

    [Theory]
    [InlineData("10.0.0.1", 0x0A000001u)]
    [InlineData("255.255.255.255", 0xFFFFFFFFu)]
    [InlineData("0.0.0.0", 0u)]
    [InlineData("192.168.001.010", 0xC0A8010Au)]
    public void ParseIPv4_accepts_dotted_quads(string s, uint expected)
    {
        Assert.True(Values.ParseIPv4(s, out uint a));
        Assert.Equal(expected, a);
    }

    [Fact]
    public void UnparseIPv4_prints_dotted_quad()
    {
        Assert.Equal("192.168.1.10", Values.UnparseIPv4(0xC0A8010Au));
        Assert.Equal("0.0.0.255", Values.UnparseIPv4(255u));
    }

    [Theory]
    [InlineData("256.0.0.1")]
    [InlineData("1.2.3")]
    [InlineData("1.2.3.4.5")]
    [InlineData("1..3.4")]
    [InlineData("a.b.c.d")]
    [InlineData("1.2.3.-4")]
    public void ParseIPv4_rejects_bad_addresses(string s)
    {
        Assert.False(Values.ParseIPv4(s, out _));
    }

    [Theory]
    [InlineData("10.0.0.0/8", 0x0A000000u, 0xFF000000u)]
    [InlineData("10.1.2.3/255.255.0.0", 0x0A010203u, 0xFFFF0000u)]
    [InlineData("0.0.0.0/0", 0u, 0u)]
    [InlineData("1.2.3.4/32", 0x01020304u, 0xFFFFFFFFu)]
    [InlineData("1.2.3.4", 0x01020304u, 0xFFFFFFFFu)]
    public void ParseIPPrefix_lengths_masks_and_bare_addresses(string s, uint addr, uint mask)
    {
        Assert.True(Values.ParseIPPrefix(s, out uint a, out uint m));
        Assert.Equal(addr, a);
        Assert.Equal(mask, m);
    }

    [Theory]
    [InlineData("10.0.0.0/33")]
    [InlineData("10.0.0.0/")]
    [InlineData("10.0.0/8")]
    [InlineData("10.0.0.0/x")]
    public void ParseIPPrefix_rejects_bad_prefixes(string s)
    {
        Assert.False(Values.ParseIPPrefix(s, out _, out _));
    }

    [Fact]
    public void ParseIPPrefix_bare_address_can_be_disallowed()
    {
        Assert.False(Values.ParseIPPrefix("1.2.3.4", out _, out _, allowBare: false));
        Assert.True(Values.ParseIPPrefix("1.2.3.4/24", out _, out uint m, allowBare: false));
        Assert.Equal(0xFFFFFF00u, m);
    }

    [Fact]
    public void ParseIPv6_accepts_compressed_and_full_forms()
    {
        Assert.True(Values.ParseIPv6("::1", out var lo));
        Assert.Equal(16, lo.Length);
        Assert.Equal(1, lo[15]);
        Assert.All(lo.Take(15), b => Assert.Equal(0, b));
        Assert.True(Values.ParseIPv6("fe80:0:0:0:0:0:0:abcd", out var ll));
        Assert.Equal([0xfe, 0x80], ll.Take(2));
        Assert.Equal([0xab, 0xcd], ll.Skip(14));
        Assert.True(Values.ParseIPv6("::ffff:1.2.3.4", out var mapped));
        Assert.Equal([1, 2, 3, 4], mapped.Skip(12));
    }

    [Theory]
    [InlineData("1.2.3.4")]
    [InlineData("fe80::1::2")]
    [InlineData("zz::1")]
    [InlineData("")]
    public void ParseIPv6_rejects_bad_input(string s)
    {
        Assert.False(Values.ParseIPv6(s, out _));
    }

    [Theory]
    [InlineData("00:11:22:33:44:55")]
    [InlineData("00-11-22-33-44-55")]
    [InlineData("0:11:22:33:44:55")]
    public void ParseEther_accepts_colon_and_dash_forms(string s)
    {
        Assert.True(Values.ParseEther(s, out var mac));
        Assert.Equal(new byte[] { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 }, mac);
    }

    [Fact]
    public void ParseEther_is_case_insensitive_and_unparses_with_dashes_uppercase()
    {
        Assert.True(Values.ParseEther("aa:Bb:cC:dd:EE:ff", out var mac));
        Assert.Equal("AA-BB-CC-DD-EE-FF", Values.UnparseEther(mac));
    }

    [Theory]
    [InlineData("00:11:22:33:44")]
    [InlineData("00:11:22:33:44:55:66")]
    [InlineData("00:11:22:33:44:GG")]
    [InlineData("000:11:22:33:44:55")]
    [InlineData("00:11::33:44:55")]
    public void ParseEther_rejects_bad_addresses(string s)
    {
        Assert.False(Values.ParseEther(s, out _));
    }

    [Theory]
    [InlineData(1.5, "1.5")]
    [InlineData(0.000001, "0.000001")]
    [InlineData(3.0, "3")]
    public void UnparseSeconds_prints_plain_seconds(double v, string expected)
    {
        Assert.Equal(expected, Values.UnparseSeconds(v));
    }
}
