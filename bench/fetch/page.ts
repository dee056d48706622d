/**
 * A realistic ~100 KB article page: head with styles and scripts, navigation,
 * sidebar, comments and footer around a long article with headings, lists,
 * tables, code and links — the kind of page the fetch tool simplifies.
 */
export function articlePage(targetBytes = 100 * 1024): string {
  const nav = Array.from({ length: 40 }, (_, i) => `<li><a href="/section/${i}">Section ${i}</a></li>`).join(
    '',
  );
  const sidebar = Array.from(
    { length: 30 },
    (_, i) => `<li><a href="/post/${i}">Popular post number ${i}</a></li>`,
  ).join('');
  const para = (i: number) =>
    `<p>Paragraph ${i}: a careful fetcher resolves the host once, checks every address, connects to the one it checked, ` +
    `and follows redirects by hand. <a href="/ref/${i}">Reference ${i}</a> explains <em>why</em> pinning matters, and ` +
    `<strong>robots.txt</strong> is consulted before each hop. Charsets are honoured; sizes are capped.</p>`;
  const section = (s: number) =>
    `<h2>Part ${s}</h2>${Array.from({ length: 6 }, (_, i) => para(s * 10 + i)).join('')}` +
    `<ul>${Array.from({ length: 5 }, (_, i) => `<li>Point ${s}.${i} with <code>inline()</code> code</li>`).join('')}</ul>` +
    `<table><tr><th>key</th><th>value</th></tr>${Array.from({ length: 4 }, (_, i) => `<tr><td>k${i}</td><td>v${i}</td></tr>`).join('')}</table>` +
    `<pre><code>function part${s}() {\n  return ${s};\n}</code></pre>`;
  const head = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Benchmark article</title>
<style>${'.c{color:red}'.repeat(200)}</style><script>${'var a=1;'.repeat(300)}</script></head><body>
<header><nav><ul>${nav}</ul></nav></header><main><article><h1>A long article</h1>`;
  const tail = `</article></main><aside><ul>${sidebar}</ul></aside>
<section class="comments">${Array.from({ length: 20 }, (_, i) => `<div class="comment">Comment ${i}: nice post!</div>`).join('')}</section>
<footer><p>Copyright footer</p></footer></body></html>`;
  let body = '';
  for (let s = 1; head.length + body.length + tail.length < targetBytes; s++) body += section(s);
  return head + body + tail;
}
