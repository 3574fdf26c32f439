using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// TimeSortedSched([keywords STOP, BUFFER]): merges packet streams sorted by timestamp. On each
/// pull it returns the chronologically next packets among those buffered from its inputs (up
/// to BUFFER per input, default 1; more copes with slightly reordered inputs), pulling only
/// inputs whose upstream notifiers are active. Its output is active iff an upstream notifier
/// is (a search for its empty notifier continues upstream). STOP (bool, default false): stop
/// the driver when no packet is buffered and no upstream notifier is active. Packets with no
/// timestamp sort first; equal timestamps keep arrival order. Handlers: well_ordered (read:
/// "false" once a packet came out earlier than one before it).
/// </summary>
/// <example>a :: InfiniteSource(LIMIT 3, BURST 3); b :: InfiniteSource(LIMIT 3, BURST 3); a -> SetTimestamp(2) -> Queue -> [0]tss :: TimeSortedSched(STOP true) -> Unqueue -> Discard; b -> SetTimestamp(1) -> Queue -> [1]tss;</example>
public sealed class TimeSortedSched : Element
{
    private struct Held
    {
        public long Ts;
        public long Seq;
        public Packet P;
        public int Input;
    }

    private Held[] _heap = [];
    private int _held;
    private long _seq;
    private int[] _space = [];
    private NotifierSignal[] _signals = [];
    private int _buffer = 1;
    private bool _stop, _wellOrdered = true;
    private long _lastTs;

    public override string PortCount => "-/1";
    public override string Processing => "l/l";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var stop = a.Read("STOP", Args.Bool, false);
        var buffer = a.Read("BUFFER", Args.Int, 1);
        if (!a.Complete()) return false;
        if (buffer.Value < 1) return errh.Error("BUFFER must be at least 1");
        _stop = stop;
        _buffer = buffer;
        return true;
    }

    public override bool Initialize(ErrorHandler errh)
    {
        int n = NInputs;
        _heap = new Held[Math.Max(n * _buffer, 1)];
        _space = new int[n];
        _signals = new NotifierSignal[n];
        for (int i = 0; i < n; i++)
        {
            _space[i] = _buffer;
            // No listener: pullers downstream find these notifiers through us and sleep on them.
            _signals[i] = Host.UpstreamEmptySignal(this, i, null);
        }
        return true;
    }

    public override PacketBatch? Pull(int port, int max)
    {
        bool signalsOn = false;
        for (int i = 0; i < _space.Length; i++)
        {
            if (_space[i] > 0 && _signals[i].Active)
            {
                signalsOn = true;
                Fill(i);
            }
        }
        if (_held == 0)
        {
            if (_stop && !signalsOn) Host.PleaseStop();
            return null;
        }
        var b = Host.Batches.Rent();
        int limit = Math.Min(max, PacketBatch.MaxSize);
        while (b.Count < limit && _held > 0)
        {
            var h = PopMin();
            if (h.Ts != 0)
            {
                if (h.Ts < _lastTs) _wellOrdered = false;
                _lastTs = h.Ts;
            }
            b.Add(h.P);
            // Refill the input just emitted from before choosing again: its next packet may be the earliest.
            if (++_space[h.Input] > 0 && _signals[h.Input].Active) Fill(h.Input);
        }
        return b;
    }

    private void Fill(int input)
    {
        var b = Input(input, _space[input]);
        if (b == null) return;
        foreach (var p in b.Packets) PushHeld(p, input);
        _space[input] -= b.Count;
        Host.Batches.Return(b);
    }

    private void PushHeld(Packet p, int input)
    {
        // Only an upstream that returns more than asked can overflow the heap.
        if (_held == _heap.Length) Array.Resize(ref _heap, _heap.Length * 2);
        var h = new Held { Ts = p.TimestampNs, Seq = _seq++, P = p, Input = input };
        int i = _held++;
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (!Less(h, _heap[parent])) break;
            _heap[i] = _heap[parent];
            i = parent;
        }
        _heap[i] = h;
    }

    private Held PopMin()
    {
        var top = _heap[0];
        var last = _heap[--_held];
        _heap[_held] = default;
        if (_held > 0)
        {
            int i = 0;
            while (true)
            {
                int c = 2 * i + 1;
                if (c >= _held) break;
                if (c + 1 < _held && Less(_heap[c + 1], _heap[c])) c++;
                if (!Less(_heap[c], last)) break;
                _heap[i] = _heap[c];
                i = c;
            }
            _heap[i] = last;
        }
        return top;
    }

    private static bool Less(in Held a, in Held b) => a.Ts < b.Ts || (a.Ts == b.Ts && a.Seq < b.Seq);

    public override void Cleanup()
    {
        for (int i = 0; i < _held; i++) _heap[i].P.Kill();
        Array.Clear(_heap);
        _held = 0;
    }

    public override void AddHandlers()
    {
        AddReadHandler("well_ordered", () => ElementUtil.Bool(_wellOrdered));
    }
}
