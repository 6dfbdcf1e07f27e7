// axum handlers written the wrong way on purpose: each line marked VULN holds one class.
async fn search(Query(q): Query<Search>, State(pool): State<PgPool>) -> Json<Vec<Note>> {
    let sql = format!("SELECT * FROM notes WHERE body LIKE '%{}%'", q.term); // VULN sql
    Json(sqlx::query_as(&sql).fetch_all(&pool).await.unwrap())
}

async fn convert(Query(q): Query<Convert>) -> String {
    let out = Command::new("sh").arg("-c").arg(format!("convert {} out.png", q.file)).output().unwrap(); // VULN command
    String::from_utf8_lossy(&out.stdout).into()
}

async fn hello(Query(q): Query<Hello>) -> Html<String> {
    Html(format!("<h1>Hello {}</h1>", q.name)) // VULN xss
}

async fn back(Query(q): Query<Next>) -> Redirect {
    Redirect::to(&q.next) // VULN redirect
}

async fn fetch(Query(q): Query<Fetch>) -> String {
    reqwest::get(&q.url).await.unwrap().text().await.unwrap() // VULN ssrf
}

async fn file(Path(name): Path<String>) -> String {
    std::fs::read_to_string(format!("/srv/notes/{}", name)).unwrap() // VULN path
}

async fn preview(Form(f): Form<Preview>) -> String {
    Tera::one_off(&f.template, &Context::new(), true).unwrap() // VULN template
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().danger_accept_invalid_certs(true).build().unwrap() // VULN tls
}

fn hash_password(password: &str) -> String {
    format!("{:x}", md5::compute(password)) // VULN weak-hash
}

fn claims(token: &str) -> Claims {
    let mut validation = Validation::default();
    validation.insecure_disable_signature_validation(); // VULN jwt
    decode::<Claims>(token, &DecodingKey::from_secret(&[]), &validation).unwrap().claims
}
