using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// StoreData(OFFSET, DATA [, MASK, GROW]): writes DATA into each packet at OFFSET (only the
/// bits set in MASK, if given). Packets too short are left alone unless GROW is true.
/// </summary>
/// <example>InfiniteSource(LIMIT 1, STOP true) -> StoreData(0, \&lt;ff ff&gt;) -> Discard;</example>
public sealed class StoreData : SimpleElement
{
    private int _offset;
    private byte[] _data = [];
    private byte[]? _mask;
    private bool _grow;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var off = a.ReadMP("OFFSET", Args.Unsigned);
        var data = a.ReadMP("DATA", Args.String);
        var mask = a.Read("MASK", Args.String, "");
        var grow = a.Read("GROW", Args.Bool, false);
        if (!a.Complete()) return false;
        _offset = off;
        _data = System.Text.Encoding.Latin1.GetBytes(data.Value);
        _mask = mask.Present ? System.Text.Encoding.Latin1.GetBytes(mask.Value) : null;
        _grow = grow;
        return true;
    }

    protected override void Process(PacketBatch batch)
    {
        foreach (var p in batch.Packets)
        {
            int end = _offset + _data.Length;
            if (p.Length < end)
            {
                if (!_grow) continue;
                p.Put(end - p.Length);
            }
            var d = p.WritableData().Slice(_offset, _data.Length);
            if (_mask == null) _data.CopyTo(d);
            else
                for (int i = 0; i < d.Length; i++)
                {
                    byte m = i < _mask.Length ? _mask[i] : (byte)0;
                    d[i] = (byte)((d[i] & ~m) | (_data[i] & m));
                }
        }
    }
}
