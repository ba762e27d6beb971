import Logging
import ServiceRuntime
import Testing

/// LOG_LEVEL: one reading for every executable; a typo is a configuration error, not a default.
@Suite struct LogLevelSettingTests {
    @Test func unsetIsInfoAndAnyCaseIsAccepted() throws {
        #expect(try LogLevelSetting.level(in: EnvironmentReader([:])) == .info)
        #expect(try LogLevelSetting.level(in: EnvironmentReader(["LOG_LEVEL": "Debug"])) == .debug)
    }

    @Test func anUnknownLevelNamesTheVariableAndTheValue() {
        #expect(throws: ConfigurationError("LOG_LEVEL", "\"loud\" is not a log level")) {
            try LogLevelSetting.level(in: EnvironmentReader(["LOG_LEVEL": "loud"]))
        }
    }
}
