// CloudFront Function (cloudfront-js-2.0), viewer request on /thumbnails/*: replaces the
// browser's Accept header with the one format class the origin chooses by (image/avif,
// image/webp, or none), so the cache keys each thumbnail three ways instead of once per
// browser's spelling of Accept. The rules are thumbnail-http's FormatClass; both are tested
// on the same cases (infra/cdn/accept-cases.json).

function takes(accept, wanted) {
    return accept.split(',').some(function (range) {
        var parts = range.split(';').map(function (p) { return p.trim(); });
        var refused = parts.slice(1).some(function (p) {
            var m = /^q\s*=\s*([0-9.]+)$/i.exec(p);
            return m !== null && parseFloat(m[1]) <= 0;
        });
        return parts[0].toLowerCase() === wanted && !refused;
    });
}

function formatClass(accept) {
    if (takes(accept, 'image/avif')) {
        return 'image/avif';
    }
    if (takes(accept, 'image/webp')) {
        return 'image/webp';
    }
    return '';
}

function handler(event) {
    var request = event.request;
    var accept = request.headers.accept ? request.headers.accept.value : '';
    var normalised = formatClass(accept);
    if (normalised) {
        request.headers.accept = { value: normalised };
    } else {
        delete request.headers.accept;
    }
    return request;
}
