// Unit test of the CloudFront Function (run by infra/tests/run.py with node): every case of
// accept-cases.json, which thumbnail-http's FormatClass passes too, through the handler as
// CloudFront calls it.
'use strict';
const fs = require('fs');
const path = require('path');
const assert = require('assert');

const code = fs.readFileSync(path.join(__dirname, 'accept.js'), 'utf8');
const { handler } = new Function(code + '\nreturn { handler };')();
const cases = JSON.parse(fs.readFileSync(path.join(__dirname, 'accept-cases.json'), 'utf8'));
const expected = { avif: 'image/avif', webp: 'image/webp', other: undefined };

for (const c of cases) {
    const headers = { host: { value: 'd111111abcdef8.cloudfront.net' } };
    if (c.accept !== '') {
        headers.accept = { value: c.accept };
    }
    const out = handler({ request: { method: 'GET', uri: '/thumbnails/a.jpg', querystring: {}, headers } });
    const got = out.headers.accept ? out.headers.accept.value : undefined;
    assert.strictEqual(got, expected[c.class], `${c.client}: ${JSON.stringify(c.accept)}`);
    assert.strictEqual(out.headers.host.value, 'd111111abcdef8.cloudfront.net', 'other headers kept');
    assert.strictEqual(out.uri, '/thumbnails/a.jpg');
}
console.log(`accept.js: ${cases.length} cases pass`);
