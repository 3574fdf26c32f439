using ClickOS.Core;

namespace ClickOS.Elements;

/// <summary>
/// Idle: has any number of ports and never emits a packet; packets pushed to it are dropped.
/// Pull inputs downstream of Idle sleep forever (its empty notifier is never active).
/// </summary>
/// <example>Idle -> Discard; DriverManager(wait 10ms, stop);</example>
public sealed class Idle : Element
{
    public override string PortCount => "-/-";
    public override string Processing => "a/a";
    public override string FlowCode => "x/y";
    public override bool IsIdleSource => true;

    public override void Push(int port, PacketBatch batch) => Drop(batch);
    public override PacketBatch? Pull(int port, int max) => null;
}
