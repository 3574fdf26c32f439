using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// StrideSched(TICKETS0, ..., TICKETSN-1): pulls from inputs in proportion to their tickets
/// (stride scheduling), skipping empty inputs. Handlers: tickets0..N-1 (read/write).
/// </summary>
/// <example>InfiniteSource(LIMIT 3, STOP true) -> q0 :: Queue -> s :: StrideSched(3, 1) -> Unqueue -> Discard; Idle -> q1 :: Queue -> [1]s;</example>
public sealed class StrideSched : Element
{
    private int[] _tickets = [];
    private ulong[] _pass = [];

    public override string PortCount => "1-/1";
    public override string Processing => "l/l";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        if (conf.Count != NInputs)
            return errh.Error($"need {NInputs} arguments, one per input");
        _tickets = new int[conf.Count];
        for (int i = 0; i < conf.Count; i++)
        {
            if (!Values.ParseInt64(conf[i], out long t) || t < 1 || t > Task.MaxTickets)
                return errh.Error($"argument {i + 1}: expected ticket count between 1 and {Task.MaxTickets}");
            _tickets[i] = (int)t;
        }
        _pass = new ulong[conf.Count];
        for (int i = 0; i < _pass.Length; i++) _pass[i] = Stride(i);
        return true;
    }

    private ulong Stride(int i) => Task.Stride1 / (ulong)_tickets[i];

    public override PacketBatch? Pull(int port, int max)
    {
        int n = _tickets.Length;
        Span<bool> tried = stackalloc bool[n];
        tried.Clear(); // SkipLocalsInit: stackalloc is not zeroed
        for (int k = 0; k < n; k++)
        {
            int best = -1;
            for (int i = 0; i < n; i++)
                if (!tried[i] && (best < 0 || _pass[i] < _pass[best])) best = i;
            tried[best] = true;
            var b = Input(best, 1);
            _pass[best] += Stride(best);
            if (b != null) return b;
        }
        return null;
    }

    public override void AddHandlers()
    {
        for (int i = 0; i < _tickets.Length; i++)
        {
            int port = i;
            SetHandler($"tickets{i}", (_, _) => _tickets[port].ToString(ElementUtil.Inv),
                ElementUtil.Writer(Args.Unsigned, v => _tickets[port] = Math.Clamp(v, 1, Task.MaxTickets), $"tickets{i}"), HandlerFlags.None);
        }
    }
}
