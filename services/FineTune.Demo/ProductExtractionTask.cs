using System.Text.Json.Nodes;

namespace FineTune.Demo;

/// <summary>
/// Seed 003's task, generated: an HTML product snippet in, a JSON object {name, price, category, manufacturer} out.
/// Snippets vary in layout (eight templates: headings, lists, tables, attributes, field order), the values are drawn from
/// fixed lists and random prices, and the held-out split uses another seed, so it holds combinations never seen in training.
/// Records are written in the seed's own format: {"input": html, "output": {…}} per line.
/// </summary>
public static class ProductExtractionTask
{
    public sealed record Product(string Name, string Price, string Category, string Manufacturer)
    {
        public JsonObject ToJson() => new() { ["name"] = Name, ["price"] = Price, ["category"] = Category, ["manufacturer"] = Manufacturer };
    }

    public static readonly string[] Names =
    [
        "Laptop", "Phone", "Book", "Tablet", "Headphones", "Camera", "Blender", "Toaster", "Backpack", "Desk Lamp",
        "Monitor", "Keyboard", "Mouse", "Speaker", "Watch", "Kettle", "Microwave", "Printer", "Router", "Drone",
        "Guitar", "Sneakers", "Jacket", "Sunglasses", "Coffee Maker", "Vacuum", "Fan", "Heater", "Notebook", "Pen",
        "Bicycle", "Helmet", "Tent", "Sleeping Bag", "Yoga Mat", "Dumbbells", "Skillet", "Knife Set", "Mixer", "Charger",
    ];

    public static readonly string[] Categories =
    [
        "Electronics", "Literature", "Kitchen", "Audio", "Office", "Sports", "Outdoors", "Clothing", "Home", "Music",
        "Gadgets", "Fitness",
    ];

    public static readonly string[] Manufacturers =
    [
        "Dell", "Apple", "Penguin", "Samsung", "Sony", "Canon", "Philips", "Bosch", "Logitech", "Lenovo",
        "Asus", "Nike", "Adidas", "Yamaha", "Dyson", "Braun", "Garmin", "Oster", "Tefal", "Epson",
        "Netgear", "Fender", "Coleman", "Puma", "Ikea", "Bose", "Casio", "Nikon", "HarperCollins", "Xiaomi",
    ];

    private static readonly Func<Product, string>[] Templates =
    [
        p => $"<div><h2>Product: {p.Name}</h2><p>Price: {p.Price}</p><span>Category: {p.Category}</span><span>Manufacturer: {p.Manufacturer}</span></div>",
        p => $"<div class=\"product\"><h3>{p.Name}</h3><span class=\"price\">{p.Price}</span><ul><li>Category: {p.Category}</li><li>Brand: {p.Manufacturer}</li></ul></div>",
        p => $"<article><h1>{p.Name}</h1><p>by {p.Manufacturer}</p><p>{p.Category} | {p.Price}</p></article>",
        p => $"<table><tr><th>Name</th><th>Maker</th><th>Type</th><th>Cost</th></tr><tr><td>{p.Name}</td><td>{p.Manufacturer}</td><td>{p.Category}</td><td>{p.Price}</td></tr></table>",
        p => $"<li data-category=\"{p.Category}\"><b>{p.Name}</b> - {p.Price} <i>({p.Manufacturer})</i></li>",
        p => $"<section><p>Manufacturer: {p.Manufacturer}</p><p>Category: {p.Category}</p><h2>{p.Name}</h2><strong>{p.Price}</strong></section>",
        p => $"<div itemscope><span itemprop=\"brand\">{p.Manufacturer}</span> <span itemprop=\"name\">{p.Name}</span> <span itemprop=\"price\">{p.Price}</span> in {p.Category}</div>",
        p => $"<p><em>{p.Category}</em>: {p.Manufacturer} {p.Name}, now {p.Price}</p>",
    ];

    public static int TemplateCount => Templates.Length;

    public static Product RandomProduct(Random random)
    {
        var dollars = random.Next(3) switch { 0 => random.Next(5, 100), 1 => random.Next(100, 1000), _ => random.Next(1000, 3000) };
        var price = random.Next(3) == 0 ? $"${dollars}.{random.Next(100):D2}" : $"${dollars}";
        return new Product(
            Names[random.Next(Names.Length)], price, Categories[random.Next(Categories.Length)], Manufacturers[random.Next(Manufacturers.Length)]);
    }

    public static IEnumerable<(string Html, Product Product)> Generate(int count, int seed)
    {
        var random = new Random(seed);
        for (var i = 0; i < count; i++)
        {
            var product = RandomProduct(random);
            yield return (Templates[random.Next(Templates.Length)](product), product);
        }
    }

    /// <summary>Writes <paramref name="count"/> records as JSONL ({"input", "output"}), atomically.</summary>
    public static void WriteJsonl(string path, int count, int seed)
    {
        var lines = Generate(count, seed)
            .Select(r => new JsonObject { ["input"] = r.Html, ["output"] = r.Product.ToJson() }.ToJsonString());
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temp = path + ".tmp";
        File.WriteAllLines(temp, lines);
        File.Move(temp, path, overwrite: true);
    }
}
