<?php
// A guestbook page written as a script, the wrong way on purpose: request data reaches each sink
// marked VULN through assignments, interpolation and concatenation at top level, or one call deep.
require_once 'db.php';

function entries_by($link, $author) {
    $query = "SELECT body FROM entries WHERE author = '$author' ORDER BY id DESC";
    return mysqli_query($link, $query); // VULN sql
}

function thumbnail($file) {
    return shell_exec('convert ' . $file . ' -resize 64x64 /tmp/thumb.png'); // VULN command
}

$author = $_GET['author'] ?? '';
$rows = entries_by($link, $author);

$page = $_REQUEST['page'];
$offset = $page * 20;
$sql = "SELECT * FROM entries LIMIT 20 OFFSET $offset";
$list = mysqli_query($link, $sql); // VULN sql

$html = '<h2>Entries</h2>';
$html .= '<p>Written by ' . $_GET['author'] . '</p>';
echo $html; // VULN xss

$avatar = $_FILES['avatar']['name'];
thumbnail("/srv/uploads/$avatar");

$lang = $_COOKIE['lang'];
$messages = "lang/" . $lang . ".php";
include $messages; // VULN file-inclusion

$count = (int) $_GET['count'];
$recent = mysqli_query($link, "SELECT * FROM entries LIMIT $count");
$title = htmlspecialchars($_GET['title'] ?? '', ENT_QUOTES);
echo "<h1>$title</h1>";
