// A Spring controller written the wrong way on purpose: each line marked VULN holds one class.
@RestController
class NotesController(val jdbc: JdbcTemplate, val rest: RestTemplate) {
    @GetMapping("/notes")
    fun search(@RequestParam q: String) = jdbc.queryForList("SELECT * FROM notes WHERE body LIKE '%" + q + "%'") // VULN sql

    @PostMapping("/convert")
    fun convert(@RequestParam file: String) = Runtime.getRuntime().exec("sh -c convert $file out.png") // VULN command

    @GetMapping("/hello")
    fun hello(@RequestParam name: String): String {
        return "<h1>Hello $name</h1>" // VULN xss
    }

    @GetMapping("/back")
    fun back(@RequestParam next: String) = "redirect:$next" // VULN redirect

    @GetMapping("/fetch")
    fun fetch(@RequestParam url: String) = rest.getForObject(url, String::class.java) // VULN ssrf

    @GetMapping("/file")
    fun file(@RequestParam name: String) = File("/srv/notes/$name").readText() // VULN path

    @PostMapping("/calc")
    fun calc(@RequestBody expr: String) = SpelExpressionParser().parseExpression(expr).value // VULN code

    @PostMapping("/restore")
    fun restore(@RequestBody bytes: ByteArray) = ObjectInputStream(ByteArrayInputStream(bytes)).readObject() // VULN deserialisation

    @PostMapping("/import")
    fun parse(@RequestBody xml: InputStream) = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(xml) // VULN xxe

    fun hashPassword(password: String) = MessageDigest.getInstance("SHA-1").digest(password.toByteArray()) // VULN weak-hash

    fun client() = OkHttpClient.Builder().hostnameVerifier { _, _ -> true }.build() // VULN tls

    fun security(http: HttpSecurity) = http.csrf().disable().build() // VULN csrf
}
