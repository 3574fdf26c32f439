using ClickOS.Runtime;

namespace ClickOS.Elements;

public static partial class IPRegistration
{
    static partial void RegisterClassifiers(ElementRegistry r)
    {
        r.Add("IPClassifier", () => new IPClassifier());
        r.Add("IPFilter", () => new IPFilter());
    }
}
