package org.corral.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Which {@code Accept-Encoding} headers get a gzipped answer (RFC 9110 section 12.5.3). */
class AcceptEncodingTest {
    @ParameterizedTest
    @CsvSource(delimiter = '|', nullValues = "NULL", value = {
        "NULL|false",
        "''|false",
        "gzip|true",
        "GZIP|true",
        "x-gzip|true",
        "gzip, deflate, br|true",
        "deflate, br|false",
        "br;q=1.0, gzip;q=0.5|true",
        "gzip;q=0|false",
        "gzip; q=0.000|false",
        "gzip;q=0.001|true",
        "*|true",
        "*;q=0|false",
        "identity|false",
        "gzip;q=0, *|false",
        "br, *;q=0.1|true",
    })
    void gzipOnlyWhenTheClientTakesIt(String header, boolean gzip) {
        assertThat(ApiHttpServer.acceptsGzip(header)).isEqualTo(gzip);
    }
}
