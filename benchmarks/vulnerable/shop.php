<?php
// A small shop written the wrong way on purpose: each line marked VULN holds one documented class.
require_once __DIR__ . '/config.php';
ini_set('display_errors', 'On'); // VULN debug
$page = $_GET['page'] ?? 'home';
include "pages/$page.php"; // VULN file-inclusion
$id = $_GET['id'];
$product = mysqli_query($db, "SELECT * FROM products WHERE id = " . $id); // VULN sql
$orders = $pdo->query("SELECT * FROM orders WHERE customer = '{$_COOKIE['customer']}'"); // VULN sql
echo "<h1>Results for " . $_GET['q'] . "</h1>"; // VULN xss
if (isset($_POST['next'])) {
    header('Location: ' . $_POST['next']); // VULN redirect
}
$report = shell_exec('wkhtmltopdf ' . $_POST['url'] . ' /tmp/out.pdf'); // VULN command
$ch = curl_init();
curl_setopt($ch, CURLOPT_URL, $_POST['webhook']); // VULN ssrf
curl_setopt($ch, CURLOPT_SSL_VERIFYPEER, 0); // VULN tls
$prefs = unserialize($_COOKIE['prefs']); // VULN deserialisation
$doc = new DOMDocument();
$doc->loadXML(file_get_contents('php://input'), LIBXML_NOENT); // VULN xxe
$hash = md5($_POST['password']); // VULN weak-hash
$invoice = file_get_contents('/srv/invoices/' . $_GET['invoice']); // VULN path
$calc = $_GET['formula'];
eval('$total = ' . $calc . ';'); // VULN code
$tpl = $twig->createTemplate($_POST['greeting']); // VULN template
$safe = htmlspecialchars($_GET['q'], ENT_QUOTES);
echo "<p>$safe</p>";
