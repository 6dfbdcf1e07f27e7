// An ASP.NET controller written the wrong way on purpose: each line marked VULN holds one class.
public class AccountController : Controller
{
    [HttpGet]
    public IActionResult Find(string name)
    {
        var cmd = new SqlCommand("SELECT * FROM Users WHERE Name = '" + name + "'", conn); // VULN sql
        return View(cmd.ExecuteReader());
    }

    public IActionResult Ping()
    {
        var host = Request.Query["host"];
        Process.Start("cmd.exe", "/c ping " + host); // VULN command
        return Ok();
    }

    [HttpGet]
    public IActionResult Hello([FromQuery] string name)
    {
        return Content("<h1>Hello " + name + "</h1>", "text/html"); // VULN xss
    }

    [HttpGet]
    public IActionResult Done(string returnUrl)
    {
        return Redirect(returnUrl); // VULN redirect
    }

    [HttpGet]
    public async Task<string> Proxy(string url)
    {
        return await http.GetStringAsync(url); // VULN ssrf
    }

    [HttpGet]
    public IActionResult Download(string file)
    {
        return PhysicalFile(Path.Combine("/srv/files", file), "application/octet-stream"); // VULN path
    }

    public object Load(Stream body)
    {
        var formatter = new BinaryFormatter(); // VULN deserialisation
        return formatter.Deserialize(body);
    }

    public XmlReader Reader(Stream body)
    {
        var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Parse }; // VULN xxe
        return XmlReader.Create(body, settings);
    }

    public string HashPassword(string password)
    {
        return Convert.ToHexString(MD5.HashData(Encoding.UTF8.GetBytes(password))); // VULN weak-hash
    }

    public HttpClient Client()
    {
        var handler = new HttpClientHandler();
        handler.ServerCertificateCustomValidationCallback = (m, c, ch, e) => true; // VULN tls
        return new HttpClient(handler);
    }
}
