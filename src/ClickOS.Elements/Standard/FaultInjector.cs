using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// FaultInjector(ACTION, AFTER N): passes packets through until N have passed, then misbehaves,
/// so the ClickOS host's containment can be tested: <c>throw</c> (an exception from the data
/// path), <c>loop</c> (never returns), <c>crash</c> (ends the process at once, as a native
/// crash would), <c>allocate</c> (keeps 1 MiB per packet from then on, until memory runs out).
/// A ClickOS element, not in Click. Keywords: ACTION (throw, loop, crash, allocate), AFTER
/// (default 0). Handlers: count.
/// </summary>
/// <example>InfiniteSource(LIMIT 5, STOP true) -> f :: FaultInjector(throw, AFTER 1000) -> Discard;</example>
public sealed class FaultInjector : Element
{
    private string _action = "";
    private long _after, _count;
    private readonly List<byte[]> _hoard = [];

    public override string PortCount => "1/1";
    public override string Processing => "a/a";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var action = a.ReadMP("ACTION", Args.Word);
        var after = a.ReadP("AFTER", Args.Unsigned, 0);
        if (!a.Complete()) return false;
        if (action.Value is not ("throw" or "loop" or "crash" or "allocate"))
            return errh.Error($"ACTION must be throw, loop, crash or allocate, not '{action.Value}'");
        _action = action.Value;
        _after = after.Value;
        return true;
    }

    public override void Push(int port, PacketBatch batch)
    {
        _count += batch.Count;
        if (_count > _after) Misbehave();
        Output(0, batch);
    }

    public override PacketBatch? Pull(int port, int max)
    {
        var b = Input(0, max);
        if (b == null) return null;
        _count += b.Count;
        if (_count > _after) Misbehave();
        return b;
    }

    private void Misbehave()
    {
        switch (_action)
        {
            case "throw":
                throw new InvalidOperationException($"{Declaration}: injected fault after {_after} packets");
            case "loop":
                while (Volatile.Read(ref _count) >= 0) Thread.SpinWait(100);
                break;
            case "crash":
                Environment.FailFast($"{Declaration}: injected crash after {_after} packets");
                break;
            default:
                var block = new byte[1 << 20];
                block.AsSpan().Fill(1);   // touch it, so it is resident
                _hoard.Add(block);
                break;
        }
    }

    public override void AddHandlers() => AddReadHandler("count", () => _count.ToString(ElementUtil.Inv));
}
